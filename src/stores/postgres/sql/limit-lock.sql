-- Serialises the claims of one function with limits across processes, to the end of the claim's
-- transaction (limited-claim.ts): what they read (running attempts, starts, groups' places)
-- cannot change before the claim commits. Keyed by the schema and the function (two int4 keys:
-- apart from the one-key lock that migrations take); a collision only serialises two functions.
-- Claims of functions without limits never take it.
-- $1 text: function name. Returns nothing of use.
select pg_advisory_xact_lock(hashtext('async-invoker limits {{schema}}'), hashtext($1::text))
