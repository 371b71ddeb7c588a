"""Running and analysing: one simulation, sweep planning and progress, collecting a sweep's
outcome table, statistics, comparing sweeps, and measuring the calibration patterns."""
