-- TUI: active silences.
SELECT matchers FROM silences WHERE expires_at > ?1;
