//! `collector`: the origin, network shaper and QoE analytics server of the player.
//!
//! This binary is the one entry point for operators. Its subcommands (`serve`,
//! `encode`) arrive with their features; today it reports its version and the wire
//! protocol it speaks.

use clap::Parser;

/// Origin, network shaper and QoE analytics server for the wasm player.
#[derive(Debug, Parser)]
#[command(name = "collector", version, about, long_about = None)]
struct Cli {
    /// Print the beacon protocol version this collector speaks and exit.
    #[arg(long)]
    protocol_version: bool,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if cli.protocol_version {
        println!("{}", protocol::PROTOCOL_VERSION);
        return Ok(());
    }
    println!(
        "collector {} (beacon protocol v{}): no subcommand given; see --help",
        env!("CARGO_PKG_VERSION"),
        protocol::PROTOCOL_VERSION
    );
    Ok(())
}
