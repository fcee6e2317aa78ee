-- Domain policy: instances an admin silences, suspends or only rejects media of.
CREATE TABLE domain_blocks (
    domain          text PRIMARY KEY CHECK (domain = lower(domain) AND domain <> ''),
    severity        text NOT NULL CHECK (severity IN ('silence', 'suspend', 'noop')),
    reject_media    boolean NOT NULL DEFAULT false,
    private_comment text,
    public_comment  text,
    obfuscate       boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- The block covering `host` (a port is ignored; a block of example.com covers
-- its subdomains; IP literals match exactly), the most severe first.
CREATE FUNCTION domain_block_for(host text) RETURNS domain_blocks
LANGUAGE sql STABLE AS $$
    SELECT b.*
    FROM domain_blocks b,
         (SELECT regexp_replace(lower(host), ':[0-9]+$', '') AS h) n
    WHERE b.domain = n.h
       OR (n.h !~ '^[0-9.]+$' AND n.h NOT LIKE '[%'
           AND right(n.h, length(b.domain) + 1) = '.' || b.domain)
    ORDER BY CASE b.severity WHEN 'suspend' THEN 0 WHEN 'silence' THEN 1 ELSE 2 END,
             b.reject_media DESC
    LIMIT 1
$$;

-- The severity of the block covering `host`, or NULL.
CREATE FUNCTION domain_block_severity(host text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT (domain_block_for(host)).severity
$$;
