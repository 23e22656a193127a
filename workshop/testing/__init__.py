"""Test support shared by the unit tests and the labs' stage checks."""
