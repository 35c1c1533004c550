-- One statement = one snapshot: every count must belong to one whole release.
-- :teams_a/:teams_b etc. are the row counts of releases A and B; 1/0 fails the client otherwise.
SELECT 1 / (count(*) IN (:teams_a, :teams_b))::int FROM teams;
SELECT 1 / ((SELECT count(*) FROM players) = (SELECT count(*) FROM teams) * :players_per_team)::int;
SELECT 1 / ((SELECT count(*) FROM leagues) * :teams_per_league = (SELECT count(*) FROM teams))::int;
SELECT l.code, count(t.id) FROM leagues l LEFT JOIN teams t ON t.league_id = l.id GROUP BY l.code;
SELECT count(*) FROM player_match_stats s JOIN players p ON p.id = s.player_id;
