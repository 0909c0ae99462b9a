//! `collector`: the origin, network shaper and QoE analytics server of the player.
//!
//! This binary is the one entry point for operators: `serve` runs the HTTP server,
//! `encode` makes an HLS ladder with ffmpeg. Argument and I/O errors end the process
//! with a message naming what was wrong and a non-zero exit status.

use clap::{Parser, Subcommand};

/// mimalloc: the server allocates small, short-lived buffers per request (headers,
/// paths), where it is markedly cheaper than glibc's allocator on a busy origin.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Origin, network shaper and QoE analytics server for the wasm player.
#[derive(Debug, Parser)]
#[command(name = "collector", version, about, long_about = None)]
struct Cli {
    /// Print the beacon protocol version this collector speaks and exit.
    #[arg(long)]
    protocol_version: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve encoded ladders (`/media`, `/shaped`, `/faults`, `/live`) over HTTP.
    Serve(collector::server::ServeArgs),
    /// Encode a source (or a generated test pattern) into a CMAF HLS ladder, then check it.
    Encode(collector::encode::EncodeArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if cli.protocol_version {
        println!("{}", protocol::PROTOCOL_VERSION);
        return Ok(());
    }
    match cli.command {
        Some(Command::Serve(args)) => collector::server::run(args),
        Some(Command::Encode(args)) => collector::encode::run(args),
        None => {
            println!(
                "collector {} (beacon protocol v{}): no subcommand given; see --help",
                env!("CARGO_PKG_VERSION"),
                protocol::PROTOCOL_VERSION
            );
            Ok(())
        }
    }
}
