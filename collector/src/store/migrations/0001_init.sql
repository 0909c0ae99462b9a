-- Version 1: raw beacons, views and per-minute rollups. The same text runs on SQLite and
-- PostgreSQL: portable types only (BIGINT, DOUBLE PRECISION, TEXT), no serial ids.
-- Times are milliseconds since the Unix epoch. Missing dimensions are '' (they are part
-- of primary keys, where PostgreSQL allows no NULL).

-- One row per acknowledged batch: its idempotence key is (property, view_id, seq).
CREATE TABLE batches (
    property    TEXT NOT NULL,
    view_id     TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    batch_id    TEXT NOT NULL,
    events      BIGINT NOT NULL,
    received_ms BIGINT NOT NULL,
    PRIMARY KEY (property, view_id, seq)
);

-- Raw events, one row each, kept for --retention-days after their view's last batch.
CREATE TABLE events (
    property    TEXT NOT NULL,
    view_id     TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    idx         BIGINT NOT NULL,
    t_ms        DOUBLE PRECISION NOT NULL,
    type        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    received_ms BIGINT NOT NULL,
    PRIMARY KEY (property, view_id, seq, idx)
);

-- One row per view: its dimensions, and its metrics computed from all its events so far
-- (player_wasm::qoe definitions): what the view contributes to rollup_minute at minute_ms.
-- Times in ms; played_bits / bitrate_ms is the time-weighted bitrate; failures are fatal
-- errors after the first frame, vsf before it; score_sum is in thousandths of a point
-- over scored_views; startup_upto_Xms count views whose startup fell in (previous, X].
CREATE TABLE views (
    property       TEXT NOT NULL,
    view_id        TEXT NOT NULL,
    session_id     TEXT NOT NULL,
    video_id       TEXT NOT NULL,
    video_title    TEXT NOT NULL,
    player         TEXT NOT NULL,
    player_version TEXT NOT NULL,
    browser        TEXT NOT NULL,
    os             TEXT NOT NULL,
    page           TEXT NOT NULL,
    custom         TEXT NOT NULL,
    sample_rate    DOUBLE PRECISION NOT NULL,
    first_seen_ms  BIGINT NOT NULL,
    last_seen_ms   BIGINT NOT NULL,
    client_dropped BIGINT NOT NULL DEFAULT 0,
    pruned         BIGINT NOT NULL DEFAULT 0,
    start_ms       BIGINT,
    end_ms         BIGINT,
    minute_ms      BIGINT,
    weight               DOUBLE PRECISION NOT NULL DEFAULT 0,
    views                BIGINT NOT NULL DEFAULT 0,
    events               BIGINT NOT NULL DEFAULT 0,
    attempts             BIGINT NOT NULL DEFAULT 0,
    started              BIGINT NOT NULL DEFAULT 0,
    startup_count        BIGINT NOT NULL DEFAULT 0,
    startup_ms           BIGINT NOT NULL DEFAULT 0,
    startup_upto_250ms   BIGINT NOT NULL DEFAULT 0,
    startup_upto_500ms   BIGINT NOT NULL DEFAULT 0,
    startup_upto_750ms   BIGINT NOT NULL DEFAULT 0,
    startup_upto_1000ms  BIGINT NOT NULL DEFAULT 0,
    startup_upto_1500ms  BIGINT NOT NULL DEFAULT 0,
    startup_upto_2000ms  BIGINT NOT NULL DEFAULT 0,
    startup_upto_3000ms  BIGINT NOT NULL DEFAULT 0,
    startup_upto_4000ms  BIGINT NOT NULL DEFAULT 0,
    startup_upto_6000ms  BIGINT NOT NULL DEFAULT 0,
    startup_upto_8000ms  BIGINT NOT NULL DEFAULT 0,
    startup_upto_12000ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_20000ms BIGINT NOT NULL DEFAULT 0,
    startup_over_20000ms BIGINT NOT NULL DEFAULT 0,
    rebuffer_views       BIGINT NOT NULL DEFAULT 0,
    rebuffer_count       BIGINT NOT NULL DEFAULT 0,
    rebuffer_ms          BIGINT NOT NULL DEFAULT 0,
    playing_ms           BIGINT NOT NULL DEFAULT 0,
    watch_ms             BIGINT NOT NULL DEFAULT 0,
    played_bits          BIGINT NOT NULL DEFAULT 0,
    bitrate_ms           BIGINT NOT NULL DEFAULT 0,
    switches             BIGINT NOT NULL DEFAULT 0,
    errors               BIGINT NOT NULL DEFAULT 0,
    failures             BIGINT NOT NULL DEFAULT 0,
    vsf                  BIGINT NOT NULL DEFAULT 0,
    ebvs                 BIGINT NOT NULL DEFAULT 0,
    ended                BIGINT NOT NULL DEFAULT 0,
    exited               BIGINT NOT NULL DEFAULT 0,
    seeks                BIGINT NOT NULL DEFAULT 0,
    seek_ms              BIGINT NOT NULL DEFAULT 0,
    dropped_frames       BIGINT NOT NULL DEFAULT 0,
    total_frames         BIGINT NOT NULL DEFAULT 0,
    views_with_frames    BIGINT NOT NULL DEFAULT 0,
    scored_views         BIGINT NOT NULL DEFAULT 0,
    score_sum            BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (property, view_id)
);
CREATE INDEX views_minute ON views (property, minute_ms);
CREATE INDEX views_last_seen ON views (last_seen_ms);

-- Sums of the views' metric columns by the minute each view started in and its
-- dimensions, maintained on ingest (a view's contribution is replaced whenever a batch
-- of it arrives). Kept for --rollup-retention-days.
CREATE TABLE rollup_minute (
    minute_ms   BIGINT NOT NULL,
    property    TEXT NOT NULL,
    video_id    TEXT NOT NULL,
    player      TEXT NOT NULL,
    browser     TEXT NOT NULL,
    os          TEXT NOT NULL,
    weight               DOUBLE PRECISION NOT NULL DEFAULT 0,
    views                BIGINT NOT NULL DEFAULT 0,
    events               BIGINT NOT NULL DEFAULT 0,
    attempts             BIGINT NOT NULL DEFAULT 0,
    started              BIGINT NOT NULL DEFAULT 0,
    startup_count        BIGINT NOT NULL DEFAULT 0,
    startup_ms           BIGINT NOT NULL DEFAULT 0,
    startup_upto_250ms   BIGINT NOT NULL DEFAULT 0,
    startup_upto_500ms   BIGINT NOT NULL DEFAULT 0,
    startup_upto_750ms   BIGINT NOT NULL DEFAULT 0,
    startup_upto_1000ms  BIGINT NOT NULL DEFAULT 0,
    startup_upto_1500ms  BIGINT NOT NULL DEFAULT 0,
    startup_upto_2000ms  BIGINT NOT NULL DEFAULT 0,
    startup_upto_3000ms  BIGINT NOT NULL DEFAULT 0,
    startup_upto_4000ms  BIGINT NOT NULL DEFAULT 0,
    startup_upto_6000ms  BIGINT NOT NULL DEFAULT 0,
    startup_upto_8000ms  BIGINT NOT NULL DEFAULT 0,
    startup_upto_12000ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_20000ms BIGINT NOT NULL DEFAULT 0,
    startup_over_20000ms BIGINT NOT NULL DEFAULT 0,
    rebuffer_views       BIGINT NOT NULL DEFAULT 0,
    rebuffer_count       BIGINT NOT NULL DEFAULT 0,
    rebuffer_ms          BIGINT NOT NULL DEFAULT 0,
    playing_ms           BIGINT NOT NULL DEFAULT 0,
    watch_ms             BIGINT NOT NULL DEFAULT 0,
    played_bits          BIGINT NOT NULL DEFAULT 0,
    bitrate_ms           BIGINT NOT NULL DEFAULT 0,
    switches             BIGINT NOT NULL DEFAULT 0,
    errors               BIGINT NOT NULL DEFAULT 0,
    failures             BIGINT NOT NULL DEFAULT 0,
    vsf                  BIGINT NOT NULL DEFAULT 0,
    ebvs                 BIGINT NOT NULL DEFAULT 0,
    ended                BIGINT NOT NULL DEFAULT 0,
    exited               BIGINT NOT NULL DEFAULT 0,
    seeks                BIGINT NOT NULL DEFAULT 0,
    seek_ms              BIGINT NOT NULL DEFAULT 0,
    dropped_frames       BIGINT NOT NULL DEFAULT 0,
    total_frames         BIGINT NOT NULL DEFAULT 0,
    views_with_frames    BIGINT NOT NULL DEFAULT 0,
    scored_views         BIGINT NOT NULL DEFAULT 0,
    score_sum            BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (minute_ms, property, video_id, player, browser, os)
);
CREATE INDEX rollup_minute_property ON rollup_minute (property, minute_ms);
