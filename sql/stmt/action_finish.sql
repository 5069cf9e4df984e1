UPDATE actions SET state = :state, finished_at = :now, done = :done, skipped = :skipped,
                   left_alone = :left_alone
WHERE id = :id;
