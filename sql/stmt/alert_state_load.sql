SELECT rule, queue, state, since, last_true, last_sent, value, threshold FROM alert_state;
