"""A strategy for the sim tournament. Copy this file, rename it (e.g. ada_lovelace.py), give
the class a name of your own, and change plan().

Try it alone:        python -m sim strategy._target_=ada_lovelace.MyStrategy
                     (run from the folder that holds your file; the results go to
                     results/runs/<time>_<your class>/ there)
Enter the tournament: put your file in the class folder (mkdir -p class_entries); the
                     teacher runs  python -m sim.tournament class_entries/ steady burst

The rules of the game:
- Every hour the account asks plan() what to do, and you answer with a Plan: how many useful
  posts (value_posts), how many asks (calls to action), and how many waiting replies to
  answer (replies); optionally, how many of those answered to follow back (follow_backs)
  and how many followers to stop following back (unfollow_backs). All are whole numbers, 0
  or more.
- Your budget for the whole run is self.posts_per_day useful posts a day on average and
  self.asks asks in total. Spend more and you are disqualified (a run on your own ends with
  a warning). Spending less is allowed.
- If plan() raises an error, the run stops and names the line of your file where it did.
- Answering replies costs nothing but time: at most self.reply_capacity in an hour.
- What you can see (the view): view.hour (hours since the start), view.day, view.hour_of_day
  (0-23), view.hours (length of the run), view.followers, view.engagements (likes, replies and
  shares so far), view.engagements_last_hour, view.comments_waiting (replies waiting for an
  answer) and view.comments_new (those that came in the last hour).
- For chance, use self.rng (e.g. self.rng.random() < 0.5): the same seed then gives the same
  result, which keeps the tournament fair.
"""

from sim import Plan, Strategy


class MyStrategy(Strategy):
    """One useful post every evening, an ask every few days, and answers to everyone."""

    def start(self, hours):
        # Called once before the first hour: plan ahead here if you like.
        self.value_posts_left = self.value_posts_total(hours)
        self.asks_left = self.asks

    def plan(self, view):
        value_posts = asks = 0
        if view.hour_of_day == 19 and self.value_posts_left > 0:  # 7 pm: people are online
            value_posts = 1
        days = view.hours // 24
        every = max(days // max(self.asks, 1), 1)  # spread the asks over the run
        if view.hour_of_day == 20 and view.day % every == every - 1 and self.asks_left > 0:
            asks = 1
        self.value_posts_left -= value_posts
        self.asks_left -= asks
        replies = min(view.comments_waiting, self.reply_capacity)  # thank everyone who replied
        return Plan(value_posts=value_posts, asks=asks, replies=replies)
