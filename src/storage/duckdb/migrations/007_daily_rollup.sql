-- Daily rollup of view records: per account, video, UTC day and country, the base sums every
-- aggregate is derived from (src/metrics/registry.ts) and the player loads of that day. Kept equal
-- to SUM over view_records by the materializer (same transaction); queries that it can answer
-- (whole UTC days, grouped and filtered by video, project, folder, date or country) read it
-- instead of the records. Duration-based sums keep the events' duration so that the catalog's,
-- which may change, is applied at query time exactly as the record query does.
CREATE TABLE view_rollup_daily (
  account_id VARCHAR NOT NULL,
  content_id VARCHAR NOT NULL,
  day DATE NOT NULL,
  country_key VARCHAR NOT NULL,      -- '' for no country
  records BIGINT NOT NULL,
  played BIGINT NOT NULL,
  views BIGINT NOT NULL,
  watch_time BIGINT NOT NULL,        -- unique seconds of played records
  watch_time_ev BIGINT NOT NULL,     -- the same, of played records with an event duration
  ev_duration_views BIGINT NOT NULL, -- event durations of counted records
  completed BIGINT NOT NULL,
  rebuffer_count BIGINT NOT NULL,
  rebuffer_time DOUBLE NOT NULL,
  error_count BIGINT NOT NULL,
  loads BIGINT NOT NULL,             -- impressions on this day
  PRIMARY KEY (account_id, content_id, day, country_key)
);

-- Contributions of one materialization batch (removed records negative, new ones positive),
-- folded into the rollup and emptied inside the same transaction.
CREATE TABLE view_rollup_delta (
  account_id VARCHAR NOT NULL,
  content_id VARCHAR NOT NULL,
  day DATE NOT NULL,
  country_key VARCHAR NOT NULL,
  records BIGINT NOT NULL,
  played BIGINT NOT NULL,
  views BIGINT NOT NULL,
  watch_time BIGINT NOT NULL,
  watch_time_ev BIGINT NOT NULL,
  ev_duration_views BIGINT NOT NULL,
  completed BIGINT NOT NULL,
  rebuffer_count BIGINT NOT NULL,
  rebuffer_time DOUBLE NOT NULL,
  error_count BIGINT NOT NULL,
  loads BIGINT NOT NULL
);

INSERT INTO view_rollup_delta
SELECT account_id, content_id, CAST(started_at AS DATE), coalesce(country, ''), count(*), count(*) FILTER (WHERE played),
  count(*) FILTER (WHERE counted), coalesce(sum(unique_seconds) FILTER (WHERE played), 0),
  coalesce(sum(unique_seconds) FILTER (WHERE played AND event_duration IS NOT NULL), 0),
  coalesce(sum(event_duration) FILTER (WHERE counted), 0), count(*) FILTER (WHERE completed AND played),
  coalesce(sum(rebuffer_count), 0), coalesce(sum(rebuffer_time), 0), coalesce(sum(error_count), 0), 0
FROM view_records GROUP BY ALL;

INSERT INTO view_rollup_delta
SELECT account_id, content_id, CAST(epoch_ms(load_ms) AS DATE), coalesce(country, ''), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, count(*)
FROM (SELECT account_id, content_id, country, unnest(load_times) AS load_ms FROM view_records WHERE loads > 0) GROUP BY ALL;

INSERT INTO view_rollup_daily
SELECT account_id, content_id, day, country_key, sum(records), sum(played), sum(views), sum(watch_time), sum(watch_time_ev),
  sum(ev_duration_views), sum(completed), sum(rebuffer_count), sum(rebuffer_time), sum(error_count), sum(loads)
FROM view_rollup_delta GROUP BY ALL;

DELETE FROM view_rollup_delta;
