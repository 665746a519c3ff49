-- Serialises the claims of one function with limits across processes, to the end of the claim's
-- transaction (limited-claim.ts): what they read (running attempts, starts, groups' places)
-- cannot change before the claim commits. It locks the function's row (waiting for the claim
-- that holds it), creating it on first use, and bumps its version (see limit-fast.sql). Claims
-- of functions without limits never take it.
-- $1 text: function name. Returns nothing.
insert into {{schema}}.limit_functions as f (function_name, version) values ($1::text, 1)
on conflict (function_name) do update set version = f.version + 1
