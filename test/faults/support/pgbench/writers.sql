-- Writers next to the import: a table outside the release, and no-op updates of target rows
-- (they wait while the import holds its locks, then go through).
\set id random(1, 3)
INSERT INTO fault_audit (note) VALUES ('pgbench writer');
UPDATE leagues SET country = country WHERE id = :id;
UPDATE players SET height_cm = height_cm WHERE id = (SELECT min(id) FROM players);
