-- Operator roles: the oper flag becomes the name of the account's role (NULL: not an
-- operator). Existing operators get the default role 'oper', whose capabilities are
-- opers.capabilities, so they keep exactly the powers they had.

ALTER TABLE accounts ADD COLUMN oper_role TEXT CHECK (oper_role IS NULL OR oper_role <> '');
UPDATE accounts SET oper_role = 'oper' WHERE oper = 1;
ALTER TABLE accounts DROP COLUMN oper;
