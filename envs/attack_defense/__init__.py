"""MAGIC's attacker-defender game: environment, judges, seed data and reward rules."""
