//! `collector serve`: binds the HTTP server, prints where it listens, and shuts down
//! gracefully on SIGINT or SIGTERM (in-flight responses get a grace period).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use crate::demo::Pages;
use crate::ingest::properties::Properties;
use crate::ingest::{self, Ingest, IngestConfig};
use crate::metrics::Metrics;
use crate::origin::store::CacheLimits;
use crate::origin::{self, Origin, OriginConfig};
use crate::store::{self, Location, Retention, Store, StoreOptions};

/// Command-line arguments of `collector serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Directory of encoded ladders served under `/media/`.
    #[arg(long)]
    pub media: PathBuf,
    /// Directory of network traces (two columns: seconds, Mbit/s) for `/shaped/{trace}/…`;
    /// repeat for several (trace names must differ across them).
    #[arg(long)]
    pub traces: Vec<PathBuf>,
    /// Address to listen on (port 0 picks a free port; the chosen one is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Memory for cached file contents, MiB.
    #[arg(long, default_value_t = 48)]
    pub cache_mib: u64,
    /// Latency added to each shaped request unless it says `?rtt=MS`, milliseconds.
    #[arg(long, default_value_t = 80)]
    pub rtt_ms: u64,
    /// Segments in each `/live/` playlist window.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub live_window: u64,
    /// Seconds a shaped session may sit idle before it is forgotten.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    pub session_idle_s: u64,
    /// Demo pages served under `/demo/`.
    #[arg(long, default_value = "web-demo")]
    pub demo: PathBuf,
    /// The player's npm package (`make wasm`), served under `/demo/pkg/`.
    #[arg(long, default_value = "player-wasm/pkg")]
    pub pkg: PathBuf,
    /// Log filter (`RUST_LOG` syntax); `RUST_LOG` overrides it.
    #[arg(long, default_value = "info")]
    pub log: String,
    /// Log as JSON lines instead of text.
    #[arg(long)]
    pub log_json: bool,
    /// Where beacons are stored: `sqlite://PATH` (one file, created if missing) or
    /// `postgres://USER@HOST:PORT/DATABASE` (many collectors may share one).
    #[arg(long, default_value = "sqlite://collector.db")]
    pub db: String,
    /// Properties (ingest keys, allowed origins, read tokens), JSON or TOML; without it,
    /// the `demo` property (key `demo`, any origin).
    #[arg(long)]
    pub properties: Option<PathBuf>,
    /// Days raw beacon events are kept after their view's last batch (0: forever).
    #[arg(long, default_value_t = 30)]
    pub retention_days: u64,
    /// Days per-minute rollups are kept (0: forever).
    #[arg(long, default_value_t = 400)]
    pub rollup_retention_days: u64,
    /// Beacon requests per second allowed per client address (0: no limit).
    #[arg(long, default_value_t = 50.0)]
    pub rate_limit: f64,
    /// Beacon requests a client may send at once above `--rate-limit`.
    #[arg(long, default_value_t = 100.0)]
    pub rate_burst: f64,
    /// Take the client address for rate limiting from `X-Forwarded-For` (behind a proxy).
    #[arg(long)]
    pub trust_forwarded_for: bool,
    /// Beacon batches that may wait for the store's writer (beyond: 503).
    #[arg(long, default_value_t = 20_000)]
    pub write_queue: usize,
    /// Writer connections to PostgreSQL, each committing groups of batches (SQLite: 1).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub db_writers: u64,
}

/// How long in-flight responses may continue after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

impl ServeArgs {
    fn origin_config(&self) -> OriginConfig {
        let mut config = OriginConfig::new(self.media.clone());
        config.traces = self.traces.clone();
        config.cache = CacheLimits {
            total_bytes: self.cache_mib << 20,
            ..CacheLimits::default()
        };
        config.default_rtt = Duration::from_millis(self.rtt_ms);
        config.live_window = self.live_window as usize;
        config.session_idle = Duration::from_secs(self.session_idle_s);
        config
    }
}

/// The whole application's routes; `analytics` holds ingest and `/metrics`.
pub fn app(origin: Arc<Origin>, pages: Arc<Pages>, analytics: Router) -> Router {
    origin::router(origin)
        .merge(crate::demo::routes(pages))
        .merge(analytics)
        .route("/healthz", axum::routing::get(|| async { "ok\n" }))
}

/// Opens the store and builds the analytics routes (`/v1/beacons`, `/metrics`,
/// `/api/v1/…`), and starts retention.
async fn analytics(args: &ServeArgs) -> anyhow::Result<Router> {
    let properties = match &args.properties {
        Some(path) => Properties::load(path)?,
        None => Properties::default(),
    };
    let location = Location::parse(&args.db)?;
    let metrics = Arc::new(Metrics::default());
    let options = StoreOptions {
        queue_capacity: args.write_queue,
        writers: args.db_writers as usize,
        ..StoreOptions::default()
    };
    let store = Store::open(&location, options, Arc::clone(&metrics))
        .await
        .with_context(|| format!("cannot open the store {}", args.db))?;
    tracing::info!(db = %args.db, properties = properties.iter().count(), "beacon store ready");
    store::spawn_retention(
        store.clone(),
        Retention {
            raw_days: args.retention_days,
            rollup_days: args.rollup_retention_days,
        },
    );
    let config = IngestConfig {
        rate_limit: args.rate_limit,
        rate_burst: args.rate_burst,
        trust_forwarded_for: args.trust_forwarded_for,
    };
    let properties = Arc::new(properties);
    let ingest = Ingest::new(
        Arc::clone(&properties),
        store.clone(),
        Arc::clone(&metrics),
        &config,
    );
    let api = crate::api::Api::new(properties, store.clone());
    Ok(ingest::router(ingest)
        .merge(crate::metrics::router(metrics, store))
        .merge(crate::api::router(api)))
}

/// Runs the server from the command line until SIGINT or SIGTERM.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&args.log))
        .with_context(|| format!("--log {:?} is not a valid filter", args.log))?;
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if args.log_json {
        subscriber.json().init();
    } else {
        subscriber.init();
    }
    let origin = Origin::new(args.origin_config())?;
    let pages = Arc::new(Pages::new(&args.demo, &args.pkg));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let analytics = analytics(&args).await?;
        serve(args.addr, app(origin, pages, analytics)).await
    })
}

async fn serve(addr: SocketAddr, app: Router) -> anyhow::Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    // Install the handlers before announcing the address: a SIGTERM sent as
    // soon as the line is read must already be caught, not kill the process.
    let stop = shutdown_signal()?;
    println!("collector listening on http://{local}");
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        stop.await;
        tracing::info!("shutting down: finishing in-flight responses");
        let _ = stop_tx.send(true);
    });
    let grace = async move {
        let _ = stop_rx.wait_for(|stopped| *stopped).await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = server => result.context("server failed")?,
        () = grace => tracing::warn!("grace period over: dropping remaining connections"),
    }
    Ok(())
}

/// Registers for SIGINT and SIGTERM now and returns a future that completes
/// when either arrives.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
        let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
