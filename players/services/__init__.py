"""Every write use-case of the players app. Views, admin, tasks and commands call these."""
