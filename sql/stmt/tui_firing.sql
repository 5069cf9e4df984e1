-- TUI queue list: queues with a firing alert.
SELECT DISTINCT queue FROM alert_state WHERE state = 'firing';
