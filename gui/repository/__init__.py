"""Working on a copy of a git repository: New on a repository, Hand back as branch,
Save patch."""
