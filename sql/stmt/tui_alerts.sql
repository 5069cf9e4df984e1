-- TUI alerts view: alerts not inactive, firing first, with the severity of
-- their last transition.
SELECT a.state, a.rule, a.queue, strftime('%m-%d %H:%M:%S', a.since / 1000, 'unixepoch'),
       a.value, a.threshold,
       (SELECT severity FROM alert_transitions t WHERE t.rule = a.rule AND t.labels = a.labels
        ORDER BY t.id DESC LIMIT 1)
FROM alert_state a
WHERE a.state != 'inactive' ORDER BY a.state = 'firing' DESC, a.since DESC;
