/**
 * A schema with every FK shape the sampler must close over: a composite FK with a nullable
 * part, an FK to a unique non-PK column, a double self-reference, several FKs to one parent,
 * two separate groups of DEFERRABLE cycles, and a keyless table (with duplicate rows).
 */
export const GRAPH_DDL = [
  `CREATE TABLE orgs (id int PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL)`,
  `CREATE TABLE regions (org_id int NOT NULL REFERENCES orgs(id), code text NOT NULL, name text NOT NULL, PRIMARY KEY (org_id, code))`,
  `CREATE TABLE employees (
     id int PRIMARY KEY,
     org_code text NOT NULL REFERENCES orgs(code),
     org_id int NOT NULL, region_code text,
     manager_id int REFERENCES employees(id),
     mentor_id int REFERENCES employees(id),
     email varchar(60) UNIQUE, full_name varchar(40) NOT NULL, phone varchar(20), bio text,
     CONSTRAINT employees_region_fkey FOREIGN KEY (org_id, region_code) REFERENCES regions(org_id, code))`,
  `CREATE INDEX ON employees (manager_id)`,
  `CREATE TABLE transfers (id int PRIMARY KEY,
     from_emp int NOT NULL REFERENCES employees(id), to_emp int NOT NULL REFERENCES employees(id), approver int REFERENCES employees(id),
     approver_email varchar(60) REFERENCES employees(email))`,
  `CREATE TABLE squads (id int PRIMARY KEY, lead_project_id int)`,
  `CREATE TABLE projects (id int PRIMARY KEY, squad_id int NOT NULL REFERENCES squads(id) DEFERRABLE INITIALLY IMMEDIATE)`,
  `ALTER TABLE squads ADD CONSTRAINT squads_lead_fkey FOREIGN KEY (lead_project_id) REFERENCES projects(id) DEFERRABLE INITIALLY IMMEDIATE`,
  `CREATE TABLE ca (id int PRIMARY KEY, cb_id int NOT NULL)`,
  `CREATE TABLE cb (id int PRIMARY KEY, cc_id int NOT NULL)`,
  `CREATE TABLE cc (id int PRIMARY KEY, ca_id int NOT NULL REFERENCES ca(id) DEFERRABLE INITIALLY DEFERRED)`,
  `ALTER TABLE ca ADD FOREIGN KEY (cb_id) REFERENCES cb(id) DEFERRABLE INITIALLY DEFERRED`,
  `ALTER TABLE cb ADD FOREIGN KEY (cc_id) REFERENCES cc(id) DEFERRABLE INITIALLY DEFERRED`,
  `CREATE TABLE audit (emp_id int REFERENCES employees(id), project_id int REFERENCES projects(id), note text)`,
];

/** Deterministic rows: 3 orgs, 6 regions, 60 employees (a manager tree, mentors, NULL regions), 100 transfers, 2 cycle groups, 200 audit rows. */
export const GRAPH_DATA = [
  `INSERT INTO orgs SELECT i, 'ORG' || i, 'Org ' || i FROM generate_series(1, 3) i`,
  `INSERT INTO regions SELECT o, 'R' || r, 'Region ' || o || r FROM generate_series(1, 3) o, generate_series(1, 2) r`,
  `INSERT INTO employees (id, org_code, org_id, region_code, manager_id, mentor_id, email, full_name, phone, bio)
   SELECT i, 'ORG' || (1 + i % 3), 1 + i % 3, CASE WHEN i % 5 = 0 THEN NULL ELSE 'R' || (1 + i % 2) END,
          CASE WHEN i > 1 THEN i / 2 END, CASE WHEN i > 3 AND i % 4 = 0 THEN i - 3 END,
          'person' || i || '@corp.test', 'Person ' || i, '+44 20 7946 ' || lpad(i::text, 4, '0'), repeat('bio ' || i || ' ', 1 + i % 4)
     FROM generate_series(1, 60) i ORDER BY i`,
  `INSERT INTO transfers SELECT i, 1 + (i * 7) % 60, 1 + (i * 13) % 60, CASE WHEN i % 3 = 0 THEN NULL ELSE 1 + (i * 17) % 60 END,
          CASE WHEN i % 4 = 0 THEN 'person' || (1 + (i * 19) % 60) || '@corp.test' END
     FROM generate_series(1, 100) i`,
  `BEGIN`,
  `SET CONSTRAINTS ALL DEFERRED`,
  `INSERT INTO squads SELECT i, i * 2 FROM generate_series(1, 5) i`,
  `INSERT INTO projects SELECT i, 1 + i % 5 FROM generate_series(1, 10) i`,
  `INSERT INTO ca SELECT i, i FROM generate_series(1, 5) i`,
  `INSERT INTO cb SELECT i, i FROM generate_series(1, 5) i`,
  `INSERT INTO cc SELECT i, i FROM generate_series(1, 5) i`,
  `COMMIT`,
  `INSERT INTO audit SELECT 1 + (i * 11) % 60, CASE WHEN i % 2 = 0 THEN 1 + i % 10 END, 'note ' || (i % 150) FROM generate_series(1, 200) i`,
  // identical rows: a keyless table keeps its duplicates
  `INSERT INTO audit SELECT * FROM audit WHERE note LIKE 'note 1_'`,
];

export const GRAPH_TABLES = ["orgs", "regions", "employees", "transfers", "squads", "projects", "ca", "cb", "cc", "audit"];
