"""Unit and integration tests of the service kit."""
