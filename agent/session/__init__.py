"""A conversation's life for a front end: the session, its command rules, notices."""
