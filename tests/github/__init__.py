"""Tests of github."""
