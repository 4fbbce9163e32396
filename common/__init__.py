"""Leaf helpers every app may import; this package imports no app of ours."""
