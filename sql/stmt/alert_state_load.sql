SELECT rule, queue, state, since, last_true, last_sent, value, threshold, labels,
       json_extract(labels, '$.signature') FROM alert_state
WHERE endpoint = :endpoint;
