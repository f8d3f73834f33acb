"""The scheduler process: periodic jobs that call casework services. Start it with `python -m scheduler`."""
