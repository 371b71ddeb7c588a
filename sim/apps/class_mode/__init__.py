"""Class mode (``python -m sim.app --class``): the whole class plays one tournament live.

Students design strategies on their own devices as data (:mod:`.submission`), kept per student
(:mod:`.store`) through a plain form (:mod:`.student`); the class (:mod:`.classroom`) runs them
on one audience and seeds (:mod:`.standings`) and replays the top and bottom side by side
(:mod:`.replay`) on the teacher's page (:mod:`.teacher`); :mod:`.server` serves both pages.
"""
