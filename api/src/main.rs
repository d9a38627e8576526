//! `vitrine`: the server and its administration commands.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use vitrine_api::{Config, server, telemetry};

/// Vitrine: an IIIF asset platform. With no configuration it runs embedded: SQLite, a local
/// object folder and a local search index under ./vitrine-data.
#[derive(Parser, Debug)]
#[command(name = "vitrine", version, about)]
struct Cli {
    /// A TOML configuration file; every key can also be set as VITRINE_<KEY>.
    #[arg(long, global = true, env = "VITRINE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start the server (migrates the database first).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL); schema.graphql is this output.
    Schema,
    /// Rebuild this node's search index from the database (stop the node's server first: the
    /// index has one writer).
    Reindex,
    /// Build one master's pyramid, as the request on standard input says, and answer on
    /// standard output (used by the server for masters of build_process_pixels or more).
    #[command(hide = true)]
    BuildPyramid,
    /// Run one job that a worker of this installation holds, then exit (used by the server to
    /// run a job whose previous worker died in a process of its own).
    #[command(hide = true)]
    RunJob {
        #[arg(long)]
        job: i64,
        #[arg(long)]
        worker: String,
    },
    /// Remove stored objects nothing refers to (a deleted asset's, replaced derivatives, a dead
    /// attempt's) that are older than the grace period; servers with workers do this every
    /// orphan_sweep_minutes.
    Sweep {
        /// Only objects at least this many minutes old.
        #[arg(long, default_value_t = 60)]
        grace_minutes: u64,
    },
    /// Administration from the shell.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Import a CSV batch (columns Line, ID, MediaType, Space, Origin, Reference1-3,
    /// Number1-3, MaxUnauthorised, Tags, Roles). Every problem is listed by line and column
    /// and nothing is created while there is one (exit status 2).
    Import {
        /// The CSV file.
        file: PathBuf,
        /// The customer the assets belong to.
        #[arg(long)]
        customer: String,
        /// Check the file only; create nothing.
        #[arg(long, conflicts_with = "wait")]
        dry_run: bool,
        /// Wait for the batch to finish, with a progress bar, processing it with this node's
        /// workers (VITRINE_WORKERS) alongside any running server. Exit status 1 when members
        /// failed.
        #[arg(long)]
        wait: bool,
    },
}

#[derive(Subcommand, Debug)]
enum AdminCommand {
    /// Create a customer.
    CreateCustomer {
        /// URL-safe name: a-z, 0-9, '-' and '_'.
        name: String,
        /// Human-readable name (defaults to the name).
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Create an API key and print its key and secret once.
    CreateKey {
        /// The customer the key acts for.
        #[arg(long, conflicts_with = "admin", required_unless_present = "admin")]
        customer: Option<String>,
        /// Create an admin key, which acts on every customer.
        #[arg(long)]
        admin: bool,
    },
}

/// The command line acts with the operator's authority: whoever can run it can read the
/// database anyway.
fn operator() -> domain::Principal {
    domain::Principal::Admin {
        key: "(command line)".to_owned(),
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Serve = cli.command {
        limit_malloc_arenas();
    }
    if let Command::Schema = cli.command {
        print!("{}", vitrine_api::graphql::sdl());
        return Ok(());
    }
    // a child of a server: no configuration, runtime or logging of its own
    if let Command::BuildPyramid = cli.command {
        return Ok(ingest::build_pyramid_command()?);
    }
    let config = Config::load(cli.config.as_deref())?;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.http_threads)
        .enable_all()
        .build()?
        .block_on(run(cli, config))
}

/// The arenas a server's glibc allocator may use, unless `MALLOC_ARENA_MAX` says otherwise.
const MALLOC_ARENAS: &str = "2";

/// glibc's allocator gives a thread that finds the others' arenas busy an arena of its own,
/// up to eight per core, and keeps each arena at its high-water mark. Renders free canvases of
/// megabytes, so a busy server held several times its caches in arenas nobody was using
/// (`docs/benchmarks.md`: W3's peak went from 317 MB to 180 MB with two arenas, for 3 % more CPU
/// per request). glibc reads `MALLOC_ARENA_MAX` only as the process starts, so `serve`
/// re-executes itself once with it set; a value the operator set is kept.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    let Ok(binary) = std::env::current_exe() else {
        return;
    };
    let mut arguments = std::env::args_os();
    let mut command = std::process::Command::new(binary);
    if let Some(name) = arguments.next() {
        command.arg0(name);
    }
    // exec returns only when it failed: the server then runs with glibc's default
    let error = command
        .args(arguments)
        .env("MALLOC_ARENA_MAX", MALLOC_ARENAS)
        .exec();
    eprintln!("could not restart with MALLOC_ARENA_MAX={MALLOC_ARENAS}: {error}");
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

async fn run(cli: Cli, mut config: Config) -> anyhow::Result<()> {
    telemetry::init_logging(config.log_format, &config.log_level);
    config.job_process = job_process(cli.config.as_deref());
    match cli.command {
        Command::Schema | Command::BuildPyramid => {
            unreachable!("handled before configuration is read")
        }
        Command::Serve => serve(config).await,
        Command::Migrate => {
            server::open_domain(&config).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::Import {
            file,
            customer,
            dry_run,
            wait,
        } => import(config, &file, &customer, dry_run, wait).await,
        Command::RunJob { job, worker } => run_job(config, job, &worker).await,
        Command::Sweep { grace_minutes } => {
            let domain = server::open_domain(&config).await?;
            let ingestor = ingest::Ingestor::new(
                domain,
                config.open_storage()?,
                server::ingest_options(&config),
            )
            .context("cannot set up ingest")?;
            let report = ingestor
                .sweep_orphans(std::time::Duration::from_secs(grace_minutes * 60))
                .await
                .map_err(|e| anyhow::anyhow!("{} ({})", e, e.code()))?;
            println!(
                "orphan sweep: {} object(s) examined, {} removed",
                report.examined, report.removed
            );
            Ok(())
        }
        Command::Reindex => {
            let domain = server::open_domain(&config).await?;
            let searcher = server::open_search(&config, &domain)?;
            let started = std::time::Instant::now();
            let assets = searcher
                .rebuild()
                .await
                .map_err(|e| anyhow::anyhow!("{} ({})", e, e.code()))?;
            println!(
                "search index rebuilt: {assets} annotated asset(s) up to change {} in {:.1} s",
                searcher.sequence(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Admin(AdminCommand::CreateCustomer { name, display_name }) => {
            let domain = server::open_domain(&config).await?;
            let input = domain::CustomerInput { name, display_name };
            let customer = domain
                .create_customer(&operator(), input)
                .await
                .map_err(|e| anyhow::anyhow!("{} ({})", e, e.code()))?;
            println!(
                "created customer {} ({})",
                customer.name, customer.display_name
            );
            Ok(())
        }
        Command::Admin(AdminCommand::CreateKey { customer, admin }) => {
            let domain = server::open_domain(&config).await?;
            let created = match (customer, admin) {
                (Some(customer), false) => domain.create_api_key(&operator(), &customer).await,
                _ => domain.create_admin_key().await,
            }
            .map_err(|e| anyhow::anyhow!("{} ({})", e, e.code()))?;
            println!("key: {}", created.key);
            println!("secret: {}", created.secret);
            println!(
                "(the secret is shown only now; use it as HTTP Basic {}:<secret>)",
                created.key
            );
            Ok(())
        }
    }
}

/// This binary, to run a job whose worker died in a process of its own, with the same
/// configuration file (the environment is inherited).
fn job_process(config_file: Option<&std::path::Path>) -> Option<ingest::Isolation> {
    let program = std::env::current_exe().ok()?;
    let mut args = Vec::new();
    if let Some(file) = config_file {
        args.push("--config".into());
        args.push(file.as_os_str().to_owned());
    }
    Some(ingest::Isolation { program, args })
}

/// Runs one held job in this process and records its outcome. Exits with status 3 when the
/// job is not (or no longer) held by that worker.
async fn run_job(config: Config, id: i64, worker: &str) -> anyhow::Result<()> {
    let domain = server::open_domain(&config).await?;
    let storage = config.open_storage()?;
    let Some(job) = domain
        .held_job(worker, id)
        .await
        .map_err(|e| anyhow::anyhow!("{} ({})", e, e.code()))?
    else {
        eprintln!("job {id} is not held by {worker}");
        std::process::exit(3);
    };
    let ingestor = ingest::Ingestor::new(domain, storage, server::ingest_options(&config))
        .context("cannot set up ingest")?;
    let end = ingestor
        .run(&job)
        .await
        .map_err(|e| anyhow::anyhow!("{} ({})", e, e.code()))?;
    tracing::info!(job = id, ?end, "job ran in its own process");
    Ok(())
}

async fn import(
    config: Config,
    file: &std::path::Path,
    customer: &str,
    dry_run: bool,
    wait: bool,
) -> anyhow::Result<()> {
    let content = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let domain = server::open_domain(&config).await?;
    let imported = domain
        .import_csv(&operator(), customer, &content, dry_run)
        .await
        .map_err(|e| anyhow::anyhow!("{} ({})", e, e.code()))?;
    println!(
        "{} rows, {} valid",
        imported.total_rows, imported.valid_rows
    );
    if !imported.errors.is_empty() {
        for problem in &imported.errors {
            eprintln!(
                "line {}{}: {} ({})",
                problem.line,
                problem
                    .column
                    .as_ref()
                    .map(|column| format!(", {column}"))
                    .unwrap_or_default(),
                problem.message,
                problem.code
            );
        }
        eprintln!("nothing was created: fix the problems above and import again");
        std::process::exit(2);
    }
    if imported.batches.is_empty() {
        println!("dry run: nothing was created");
        return Ok(());
    }
    for batch in &imported.batches {
        println!("created batch {} with {} members", batch.id, batch.count);
    }
    if !wait {
        return Ok(());
    }
    let storage = config.open_storage()?;
    let ingestor = ingest::Ingestor::new(domain.clone(), storage, server::ingest_options(&config))
        .context("cannot set up ingest")?;
    if config.workers == 0 {
        println!("this node runs no workers (workers = 0): waiting for a server to process it");
    }
    let node = format!("import-{}", std::process::id());
    let workers = ingest::Workers::start(
        ingestor,
        config.workers,
        &node,
        ingest::JobSignal::default(),
    );
    let total: i32 = imported.batches.iter().map(|batch| batch.count).sum();
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} ended, {msg} [{elapsed}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let finished = loop {
        let mut current = Vec::with_capacity(imported.batches.len());
        for batch in &imported.batches {
            current.push(
                domain
                    .batch(&operator(), customer, batch.id)
                    .await
                    .map_err(|e| anyhow::anyhow!("{} ({})", e, e.code()))?,
            );
        }
        let ended: i32 = current.iter().map(|b| b.completed + b.errors).sum();
        let errors: i32 = current.iter().map(|b| b.errors).sum();
        bar.set_position(ended as u64);
        bar.set_message(format!("{errors} errors"));
        if current.iter().all(|batch| batch.finished.is_some()) {
            break current;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    };
    bar.finish();
    workers.shutdown().await;
    let mut failures = false;
    for batch in finished {
        println!(
            "batch {} finished: {} ready, {} errors",
            batch.id, batch.completed, batch.errors
        );
        if batch.errors == 0 {
            continue;
        }
        failures = true;
        let failed = domain
            .batch_members(
                &operator(),
                customer,
                batch.id,
                Some(domain::AssetStatus::Error),
                &domain::PageRequest::new(Some(20), None),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{} ({})", e, e.code()))?;
        for (_, member) in failed.items {
            eprintln!(
                "line {}: {}: {}",
                member.line.unwrap_or_default(),
                member.asset_id,
                member.error.unwrap_or_default()
            );
        }
    }
    if failures {
        std::process::exit(1);
    }
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    // listen for the signals before the server exists: a SIGTERM that arrives while it
    // starts must still stop it gracefully, not kill it
    let shutdown = shutdown_signal()?;
    let admin_key_file = config.admin_key_file();
    let render_threads = (config.render_threads, config.heavy_render_threads);
    let mut running = server::start(config)
        .await
        .context("cannot start the server")?;
    if let Some(created) = &running.created_admin_key {
        println!(
            "created an admin key (shown once; also written to {}):",
            admin_key_file.display()
        );
        println!("  key:    {}", created.key);
        println!("  secret: {}", created.secret);
    }
    println!(
        "threads: {} answering requests (http_threads), {} + {} rendering \
         (render_threads + heavy_render_threads)",
        tokio::runtime::Handle::current().metrics().num_workers(),
        render_threads.0,
        render_threads.1
    );
    println!("listening on http://{}", running.local_addr);
    shutdown.await;
    tracing::info!("shutting down: finishing requests in flight");
    running.begin_shutdown();
    running.wait().await?;
    tracing::info!("stopped");
    Ok(())
}

/// Registers SIGINT and SIGTERM handlers now; the returned future ends at the first of them.
#[cfg(unix)]
fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()>> {
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

/// Registers the Ctrl-C handler; the returned future ends when it fires.
#[cfg(not(unix))]
fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
