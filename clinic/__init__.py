"""Leaf helpers shared by every app (imports no app of ours): how to reach the
clinic, and how its emails look."""
