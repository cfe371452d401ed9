"""Users: sign-in with its throttle, and managing the team's accounts and roles."""
