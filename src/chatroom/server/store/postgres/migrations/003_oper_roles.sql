-- Operator roles: the twin of ../../migrations/003_oper_roles.sql.

ALTER TABLE accounts ADD COLUMN oper_role TEXT CHECK (oper_role IS NULL OR oper_role <> '');
UPDATE accounts SET oper_role = 'oper' WHERE oper = 1;
ALTER TABLE accounts DROP COLUMN oper;
