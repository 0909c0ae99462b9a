-- Version 2: hourly and daily rollups beside the per-minute ones, a fine startup-time
-- histogram and the video's title in every rollup row. The same text runs on SQLite and
-- PostgreSQL; rollups_backfill.sql (appended to this migration) fills the new columns and
-- tables from what is already stored.
--
-- startup_hNN counts the views (unweighted, as startup_upto_*) whose startup time fell in
-- bin NN of collector::store::rollup::STARTUP_BINS_MS: bin 00 is [0, 64 ms], bin NN is
-- (upper(NN-1), upper(NN)] with upper(NN) = round(64 * 2^(NN/8)) ms up to 65,536 ms,
-- bin 81 holds the rest. video_title is the greatest title carried by the views that
-- contributed to the row ('' for rows without a video).
ALTER TABLE rollup_minute ADD COLUMN startup_h00 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h01 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h02 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h03 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h04 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h05 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h06 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h07 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h08 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h09 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h10 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h11 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h12 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h13 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h14 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h15 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h16 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h17 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h18 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h19 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h20 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h21 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h22 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h23 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h24 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h25 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h26 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h27 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h28 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h29 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h30 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h31 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h32 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h33 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h34 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h35 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h36 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h37 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h38 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h39 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h40 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h41 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h42 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h43 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h44 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h45 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h46 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h47 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h48 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h49 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h50 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h51 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h52 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h53 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h54 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h55 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h56 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h57 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h58 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h59 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h60 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h61 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h62 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h63 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h64 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h65 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h66 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h67 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h68 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h69 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h70 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h71 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h72 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h73 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h74 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h75 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h76 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h77 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h78 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h79 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h80 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN startup_h81 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_minute ADD COLUMN video_title TEXT NOT NULL DEFAULT '';
CREATE INDEX rollup_minute_video ON rollup_minute (property, video_id, minute_ms);

-- The views' contributions summed by hour (day) of the minute each view started in, for
-- several dimension sets: dims is a bit mask of the dimensions the row keeps (1 video_id,
-- 2 player, 4 browser, 8 os); the others are ''. Written in the same transaction as
-- rollup_minute, so each equals the sum of its minutes.
CREATE TABLE rollup_hour (
    bucket_ms   BIGINT NOT NULL,
    property    TEXT NOT NULL,
    dims        BIGINT NOT NULL,
    video_id    TEXT NOT NULL,
    player      TEXT NOT NULL,
    browser     TEXT NOT NULL,
    os          TEXT NOT NULL,
    video_title TEXT NOT NULL DEFAULT '',
    weight      DOUBLE PRECISION NOT NULL DEFAULT 0,
    views BIGINT NOT NULL DEFAULT 0,
    events BIGINT NOT NULL DEFAULT 0,
    attempts BIGINT NOT NULL DEFAULT 0,
    started BIGINT NOT NULL DEFAULT 0,
    startup_count BIGINT NOT NULL DEFAULT 0,
    startup_ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_250ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_500ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_750ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_1000ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_1500ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_2000ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_3000ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_4000ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_6000ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_8000ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_12000ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_20000ms BIGINT NOT NULL DEFAULT 0,
    startup_over_20000ms BIGINT NOT NULL DEFAULT 0,
    rebuffer_views BIGINT NOT NULL DEFAULT 0,
    rebuffer_count BIGINT NOT NULL DEFAULT 0,
    rebuffer_ms BIGINT NOT NULL DEFAULT 0,
    playing_ms BIGINT NOT NULL DEFAULT 0,
    watch_ms BIGINT NOT NULL DEFAULT 0,
    played_bits BIGINT NOT NULL DEFAULT 0,
    bitrate_ms BIGINT NOT NULL DEFAULT 0,
    switches BIGINT NOT NULL DEFAULT 0,
    errors BIGINT NOT NULL DEFAULT 0,
    failures BIGINT NOT NULL DEFAULT 0,
    vsf BIGINT NOT NULL DEFAULT 0,
    ebvs BIGINT NOT NULL DEFAULT 0,
    ended BIGINT NOT NULL DEFAULT 0,
    exited BIGINT NOT NULL DEFAULT 0,
    seeks BIGINT NOT NULL DEFAULT 0,
    seek_ms BIGINT NOT NULL DEFAULT 0,
    dropped_frames BIGINT NOT NULL DEFAULT 0,
    total_frames BIGINT NOT NULL DEFAULT 0,
    views_with_frames BIGINT NOT NULL DEFAULT 0,
    scored_views BIGINT NOT NULL DEFAULT 0,
    score_sum BIGINT NOT NULL DEFAULT 0,
    startup_h00 BIGINT NOT NULL DEFAULT 0,
    startup_h01 BIGINT NOT NULL DEFAULT 0,
    startup_h02 BIGINT NOT NULL DEFAULT 0,
    startup_h03 BIGINT NOT NULL DEFAULT 0,
    startup_h04 BIGINT NOT NULL DEFAULT 0,
    startup_h05 BIGINT NOT NULL DEFAULT 0,
    startup_h06 BIGINT NOT NULL DEFAULT 0,
    startup_h07 BIGINT NOT NULL DEFAULT 0,
    startup_h08 BIGINT NOT NULL DEFAULT 0,
    startup_h09 BIGINT NOT NULL DEFAULT 0,
    startup_h10 BIGINT NOT NULL DEFAULT 0,
    startup_h11 BIGINT NOT NULL DEFAULT 0,
    startup_h12 BIGINT NOT NULL DEFAULT 0,
    startup_h13 BIGINT NOT NULL DEFAULT 0,
    startup_h14 BIGINT NOT NULL DEFAULT 0,
    startup_h15 BIGINT NOT NULL DEFAULT 0,
    startup_h16 BIGINT NOT NULL DEFAULT 0,
    startup_h17 BIGINT NOT NULL DEFAULT 0,
    startup_h18 BIGINT NOT NULL DEFAULT 0,
    startup_h19 BIGINT NOT NULL DEFAULT 0,
    startup_h20 BIGINT NOT NULL DEFAULT 0,
    startup_h21 BIGINT NOT NULL DEFAULT 0,
    startup_h22 BIGINT NOT NULL DEFAULT 0,
    startup_h23 BIGINT NOT NULL DEFAULT 0,
    startup_h24 BIGINT NOT NULL DEFAULT 0,
    startup_h25 BIGINT NOT NULL DEFAULT 0,
    startup_h26 BIGINT NOT NULL DEFAULT 0,
    startup_h27 BIGINT NOT NULL DEFAULT 0,
    startup_h28 BIGINT NOT NULL DEFAULT 0,
    startup_h29 BIGINT NOT NULL DEFAULT 0,
    startup_h30 BIGINT NOT NULL DEFAULT 0,
    startup_h31 BIGINT NOT NULL DEFAULT 0,
    startup_h32 BIGINT NOT NULL DEFAULT 0,
    startup_h33 BIGINT NOT NULL DEFAULT 0,
    startup_h34 BIGINT NOT NULL DEFAULT 0,
    startup_h35 BIGINT NOT NULL DEFAULT 0,
    startup_h36 BIGINT NOT NULL DEFAULT 0,
    startup_h37 BIGINT NOT NULL DEFAULT 0,
    startup_h38 BIGINT NOT NULL DEFAULT 0,
    startup_h39 BIGINT NOT NULL DEFAULT 0,
    startup_h40 BIGINT NOT NULL DEFAULT 0,
    startup_h41 BIGINT NOT NULL DEFAULT 0,
    startup_h42 BIGINT NOT NULL DEFAULT 0,
    startup_h43 BIGINT NOT NULL DEFAULT 0,
    startup_h44 BIGINT NOT NULL DEFAULT 0,
    startup_h45 BIGINT NOT NULL DEFAULT 0,
    startup_h46 BIGINT NOT NULL DEFAULT 0,
    startup_h47 BIGINT NOT NULL DEFAULT 0,
    startup_h48 BIGINT NOT NULL DEFAULT 0,
    startup_h49 BIGINT NOT NULL DEFAULT 0,
    startup_h50 BIGINT NOT NULL DEFAULT 0,
    startup_h51 BIGINT NOT NULL DEFAULT 0,
    startup_h52 BIGINT NOT NULL DEFAULT 0,
    startup_h53 BIGINT NOT NULL DEFAULT 0,
    startup_h54 BIGINT NOT NULL DEFAULT 0,
    startup_h55 BIGINT NOT NULL DEFAULT 0,
    startup_h56 BIGINT NOT NULL DEFAULT 0,
    startup_h57 BIGINT NOT NULL DEFAULT 0,
    startup_h58 BIGINT NOT NULL DEFAULT 0,
    startup_h59 BIGINT NOT NULL DEFAULT 0,
    startup_h60 BIGINT NOT NULL DEFAULT 0,
    startup_h61 BIGINT NOT NULL DEFAULT 0,
    startup_h62 BIGINT NOT NULL DEFAULT 0,
    startup_h63 BIGINT NOT NULL DEFAULT 0,
    startup_h64 BIGINT NOT NULL DEFAULT 0,
    startup_h65 BIGINT NOT NULL DEFAULT 0,
    startup_h66 BIGINT NOT NULL DEFAULT 0,
    startup_h67 BIGINT NOT NULL DEFAULT 0,
    startup_h68 BIGINT NOT NULL DEFAULT 0,
    startup_h69 BIGINT NOT NULL DEFAULT 0,
    startup_h70 BIGINT NOT NULL DEFAULT 0,
    startup_h71 BIGINT NOT NULL DEFAULT 0,
    startup_h72 BIGINT NOT NULL DEFAULT 0,
    startup_h73 BIGINT NOT NULL DEFAULT 0,
    startup_h74 BIGINT NOT NULL DEFAULT 0,
    startup_h75 BIGINT NOT NULL DEFAULT 0,
    startup_h76 BIGINT NOT NULL DEFAULT 0,
    startup_h77 BIGINT NOT NULL DEFAULT 0,
    startup_h78 BIGINT NOT NULL DEFAULT 0,
    startup_h79 BIGINT NOT NULL DEFAULT 0,
    startup_h80 BIGINT NOT NULL DEFAULT 0,
    startup_h81 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (property, dims, bucket_ms, video_id, player, browser, os)
);

CREATE TABLE rollup_day (
    bucket_ms   BIGINT NOT NULL,
    property    TEXT NOT NULL,
    dims        BIGINT NOT NULL,
    video_id    TEXT NOT NULL,
    player      TEXT NOT NULL,
    browser     TEXT NOT NULL,
    os          TEXT NOT NULL,
    video_title TEXT NOT NULL DEFAULT '',
    weight      DOUBLE PRECISION NOT NULL DEFAULT 0,
    views BIGINT NOT NULL DEFAULT 0,
    events BIGINT NOT NULL DEFAULT 0,
    attempts BIGINT NOT NULL DEFAULT 0,
    started BIGINT NOT NULL DEFAULT 0,
    startup_count BIGINT NOT NULL DEFAULT 0,
    startup_ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_250ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_500ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_750ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_1000ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_1500ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_2000ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_3000ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_4000ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_6000ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_8000ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_12000ms BIGINT NOT NULL DEFAULT 0,
    startup_upto_20000ms BIGINT NOT NULL DEFAULT 0,
    startup_over_20000ms BIGINT NOT NULL DEFAULT 0,
    rebuffer_views BIGINT NOT NULL DEFAULT 0,
    rebuffer_count BIGINT NOT NULL DEFAULT 0,
    rebuffer_ms BIGINT NOT NULL DEFAULT 0,
    playing_ms BIGINT NOT NULL DEFAULT 0,
    watch_ms BIGINT NOT NULL DEFAULT 0,
    played_bits BIGINT NOT NULL DEFAULT 0,
    bitrate_ms BIGINT NOT NULL DEFAULT 0,
    switches BIGINT NOT NULL DEFAULT 0,
    errors BIGINT NOT NULL DEFAULT 0,
    failures BIGINT NOT NULL DEFAULT 0,
    vsf BIGINT NOT NULL DEFAULT 0,
    ebvs BIGINT NOT NULL DEFAULT 0,
    ended BIGINT NOT NULL DEFAULT 0,
    exited BIGINT NOT NULL DEFAULT 0,
    seeks BIGINT NOT NULL DEFAULT 0,
    seek_ms BIGINT NOT NULL DEFAULT 0,
    dropped_frames BIGINT NOT NULL DEFAULT 0,
    total_frames BIGINT NOT NULL DEFAULT 0,
    views_with_frames BIGINT NOT NULL DEFAULT 0,
    scored_views BIGINT NOT NULL DEFAULT 0,
    score_sum BIGINT NOT NULL DEFAULT 0,
    startup_h00 BIGINT NOT NULL DEFAULT 0,
    startup_h01 BIGINT NOT NULL DEFAULT 0,
    startup_h02 BIGINT NOT NULL DEFAULT 0,
    startup_h03 BIGINT NOT NULL DEFAULT 0,
    startup_h04 BIGINT NOT NULL DEFAULT 0,
    startup_h05 BIGINT NOT NULL DEFAULT 0,
    startup_h06 BIGINT NOT NULL DEFAULT 0,
    startup_h07 BIGINT NOT NULL DEFAULT 0,
    startup_h08 BIGINT NOT NULL DEFAULT 0,
    startup_h09 BIGINT NOT NULL DEFAULT 0,
    startup_h10 BIGINT NOT NULL DEFAULT 0,
    startup_h11 BIGINT NOT NULL DEFAULT 0,
    startup_h12 BIGINT NOT NULL DEFAULT 0,
    startup_h13 BIGINT NOT NULL DEFAULT 0,
    startup_h14 BIGINT NOT NULL DEFAULT 0,
    startup_h15 BIGINT NOT NULL DEFAULT 0,
    startup_h16 BIGINT NOT NULL DEFAULT 0,
    startup_h17 BIGINT NOT NULL DEFAULT 0,
    startup_h18 BIGINT NOT NULL DEFAULT 0,
    startup_h19 BIGINT NOT NULL DEFAULT 0,
    startup_h20 BIGINT NOT NULL DEFAULT 0,
    startup_h21 BIGINT NOT NULL DEFAULT 0,
    startup_h22 BIGINT NOT NULL DEFAULT 0,
    startup_h23 BIGINT NOT NULL DEFAULT 0,
    startup_h24 BIGINT NOT NULL DEFAULT 0,
    startup_h25 BIGINT NOT NULL DEFAULT 0,
    startup_h26 BIGINT NOT NULL DEFAULT 0,
    startup_h27 BIGINT NOT NULL DEFAULT 0,
    startup_h28 BIGINT NOT NULL DEFAULT 0,
    startup_h29 BIGINT NOT NULL DEFAULT 0,
    startup_h30 BIGINT NOT NULL DEFAULT 0,
    startup_h31 BIGINT NOT NULL DEFAULT 0,
    startup_h32 BIGINT NOT NULL DEFAULT 0,
    startup_h33 BIGINT NOT NULL DEFAULT 0,
    startup_h34 BIGINT NOT NULL DEFAULT 0,
    startup_h35 BIGINT NOT NULL DEFAULT 0,
    startup_h36 BIGINT NOT NULL DEFAULT 0,
    startup_h37 BIGINT NOT NULL DEFAULT 0,
    startup_h38 BIGINT NOT NULL DEFAULT 0,
    startup_h39 BIGINT NOT NULL DEFAULT 0,
    startup_h40 BIGINT NOT NULL DEFAULT 0,
    startup_h41 BIGINT NOT NULL DEFAULT 0,
    startup_h42 BIGINT NOT NULL DEFAULT 0,
    startup_h43 BIGINT NOT NULL DEFAULT 0,
    startup_h44 BIGINT NOT NULL DEFAULT 0,
    startup_h45 BIGINT NOT NULL DEFAULT 0,
    startup_h46 BIGINT NOT NULL DEFAULT 0,
    startup_h47 BIGINT NOT NULL DEFAULT 0,
    startup_h48 BIGINT NOT NULL DEFAULT 0,
    startup_h49 BIGINT NOT NULL DEFAULT 0,
    startup_h50 BIGINT NOT NULL DEFAULT 0,
    startup_h51 BIGINT NOT NULL DEFAULT 0,
    startup_h52 BIGINT NOT NULL DEFAULT 0,
    startup_h53 BIGINT NOT NULL DEFAULT 0,
    startup_h54 BIGINT NOT NULL DEFAULT 0,
    startup_h55 BIGINT NOT NULL DEFAULT 0,
    startup_h56 BIGINT NOT NULL DEFAULT 0,
    startup_h57 BIGINT NOT NULL DEFAULT 0,
    startup_h58 BIGINT NOT NULL DEFAULT 0,
    startup_h59 BIGINT NOT NULL DEFAULT 0,
    startup_h60 BIGINT NOT NULL DEFAULT 0,
    startup_h61 BIGINT NOT NULL DEFAULT 0,
    startup_h62 BIGINT NOT NULL DEFAULT 0,
    startup_h63 BIGINT NOT NULL DEFAULT 0,
    startup_h64 BIGINT NOT NULL DEFAULT 0,
    startup_h65 BIGINT NOT NULL DEFAULT 0,
    startup_h66 BIGINT NOT NULL DEFAULT 0,
    startup_h67 BIGINT NOT NULL DEFAULT 0,
    startup_h68 BIGINT NOT NULL DEFAULT 0,
    startup_h69 BIGINT NOT NULL DEFAULT 0,
    startup_h70 BIGINT NOT NULL DEFAULT 0,
    startup_h71 BIGINT NOT NULL DEFAULT 0,
    startup_h72 BIGINT NOT NULL DEFAULT 0,
    startup_h73 BIGINT NOT NULL DEFAULT 0,
    startup_h74 BIGINT NOT NULL DEFAULT 0,
    startup_h75 BIGINT NOT NULL DEFAULT 0,
    startup_h76 BIGINT NOT NULL DEFAULT 0,
    startup_h77 BIGINT NOT NULL DEFAULT 0,
    startup_h78 BIGINT NOT NULL DEFAULT 0,
    startup_h79 BIGINT NOT NULL DEFAULT 0,
    startup_h80 BIGINT NOT NULL DEFAULT 0,
    startup_h81 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (property, dims, bucket_ms, video_id, player, browser, os)
);
