-- Multi-statement read transactions, parent tables first, as an application page would.
BEGIN;
SELECT count(*) FROM leagues;
SELECT count(*) FROM teams;
SELECT count(*) FROM player_match_stats;
COMMIT;
