"""Scheduled maintenance: module-level job functions, referenced as "jobs.x:func"."""
