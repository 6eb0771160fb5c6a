"""Conveyor notifications service: notifications and reminders sent to users."""
