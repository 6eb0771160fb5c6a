"""Conveyor service kit: what every service gets from one place."""
