//! Generates a SQLite database of developers for the search benchmarks.
//!
//! ```text
//! # 1,000,000 users into ./search-data/devconnect.db (a server's data directory), then
//! # DEVCONNECT_SEARCH_DB=./search-data/devconnect.db cargo bench -p devconnect-core --bench search
//! searchgen --data-dir ./search-data --users 1000000
//! ```
//!
//! Deterministic (a fixed seed, a small inline PRNG): realistic first and last names,
//! 500 skills with a Zipf distribution (the common ones first, so `rust` and `go` are
//! common but not the most common), 10,000 locations (also Zipf: `Berlin` is a large
//! one), about texts of varied words, and years of experience. The first user is the
//! searcher, `viewer@search.test`, with a real password (`--password`), so the REST
//! server's search can be measured as that user. Users are written straight to the store
//! (the service would hash a password each), in id order, each indexed in its
//! transaction as a signup is (the writer commits a thousand at a time); the time taken
//! is what writing the users and building their indexes costs.

#![expect(clippy::print_stdout, reason = "a command-line tool reports on stdout")]

use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use devconnect_core::model::UserRecord;
use devconnect_core::store::sqlite::SqliteStore;
use devconnect_core::{Config, DevConnect, Me, Profile, Signup, Store, UserId};

#[derive(Parser)]
#[command(name = "searchgen", about = "Generates developers for the search benchmarks")]
struct Cli {
    /// The data directory (the database is DATA_DIR/devconnect.db); must not hold one yet.
    #[arg(long, default_value = "./search-data")]
    data_dir: std::path::PathBuf,
    /// How many users besides the searcher.
    #[arg(long, default_value_t = 1_000_000)]
    users: u32,
    /// The searcher's password.
    #[arg(long, default_value = "Load!test1")]
    password: String,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const FIRST: &str = "James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara Richard \
    Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Nancy Daniel Lisa Matthew Betty Anthony Margaret \
    Mark Sandra Donald Ashley Steven Kimberly Paul Emily Andrew Donna Joshua Michelle Kenneth Carol Kevin Amanda \
    Brian Dorothy George Melissa Timothy Deborah Ronald Stephanie Jason Rebecca Edward Sharon Jeffrey Laura Ryan \
    Cynthia Jacob Kathleen Gary Amy Nicholas Angela Eric Shirley Jonathan Anna Stephen Brenda Larry Pamela Justin \
    Emma Scott Nicole Brandon Helen Benjamin Samantha Samuel Katherine Gregory Christine Alexander Debra Frank \
    Rachel Patrick Carolyn Raymond Janet Jack Catherine Dennis Maria Jerry Heather Tyler Diane Aaron Ruth Jose \
    Julie Adam Olivia Nathan Joyce Henry Virginia Douglas Victoria Zachary Kelly Peter Lauren Kyle Christina Noah \
    Joan Ethan Evelyn Jeremy Judith Walter Megan Christian Andrea Keith Cheryl Roger Hannah Terry Jacqueline \
    Austin Martha Sean Gloria Gerald Teresa Carl Ann Harold Sara Dylan Madison Arthur Frances Lawrence Kathryn \
    Jordan Janice Jesse Jean Bryan Abigail Billy Alice Bruce Judy Gabriel Sophia Joe Grace Logan Denise Alan \
    Amber Juan Doris Albert Marilyn Willie Danielle Elijah Beverly Wayne Isabella Randy Theresa Vincent Diana \
    Mason Natalie Roy Brittany Ralph Charlotte Bobby Marie Russell Kayla Bradley Alexis Philip Lori Eugene \
    José María Jürgen Sören François Zoë Łukasz Małgorzata Jiří Ángel Hélène Björn Søren Ömer Çağla İlker \
    Wei Li Ming Hui Yuki Haruto Sakura Hiroshi Min-jun Seo-yeon Ji-ho Arjun Priya Aarav Ananya Rohan Divya \
    Mohammed Fatima Ahmed Aisha Omar Layla Yusuf Zainab Ali Mariam Chinedu Ngozi Kwame Ama Tendai Thabo \
    Lars Ingrid Sven Astrid Mikko Aino Jan Eva Pieter Sanne Luca Giulia Marco Chiara Pablo Lucía Javier Carmen \
    Mateus Ana Thiago Camila Diego Valentina Ivan Olga Dmitri Natasha Piotr Agnieszka Tomasz Katarzyna";

const LAST: &str = "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez \
    Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark \
    Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker \
    Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins \
    Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly \
    Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price \
    Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez Müller Schmidt Schneider Fischer Weber Meyer \
    Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann \
    Kowalski Nowak Wiśniewski Wójcik Kowalczyk Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci \
    Dubois Durand Lefèvre Moreau Laurent Simon Michel García Fernández González Rodríguez López Martínez \
    Sánchez Pérez Silva Santos Oliveira Souza Costa Pereira Almeida Tanaka Suzuki Takahashi Watanabe Ito \
    Yamamoto Nakamura Kobayashi Wang Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Park Choi Jung Kang Cho Singh \
    Kumar Sharma Gupta Reddy Iyer Nair Khan Hussain Ahmed Rahman Ivanov Petrov Sidorov Smirnov Popov Jansen \
    De Jong Visser Bakker Andersson Johansson Karlsson Nielsen Hansen Pedersen Korhonen Virtanen Novák \
    Dvořák Horváth Nagy Kovács Yılmaz Kaya Demir Okafor Mensah Adeyemi Mwangi Dlamini Nkosi O'Brien Murphy";

/// Common skills, most used first; the list is filled up to 500 with rarer ones.
const SKILLS: &str = "JavaScript,Python,SQL,TypeScript,Java,C#,HTML,CSS,Bash,C++,Go,PHP,Rust,Kotlin,C,Ruby,\
    Docker,Kubernetes,AWS,React,Node.js,PostgreSQL,Linux,Git,Terraform,Azure,GCP,Swift,Dart,Flutter,Scala,\
    Angular,Vue.js,Django,Spring Boot,Redis,MongoDB,MySQL,GraphQL,Elixir,Haskell,Lua,R,MATLAB,Perl,Julia,\
    Clojure,Erlang,F#,OCaml,Zig,Nim,Kafka,RabbitMQ,Elasticsearch,Spark,Hadoop,Airflow,dbt,Snowflake,Pandas,\
    NumPy,PyTorch,TensorFlow,Machine Learning,Deep Learning,Data Engineering,Computer Vision,NLP,Ansible,\
    Jenkins,GitHub Actions,GitLab CI,Prometheus,Grafana,Nginx,gRPC,REST,WebAssembly,Svelte,Next.js,Nuxt,\
    Express,FastAPI,Flask,Rails,Laravel,Symfony,ASP.NET,.NET,Unity,Unreal Engine,Godot,OpenGL,Vulkan,CUDA,\
    Embedded,FreeRTOS,Arduino,Raspberry Pi,Solidity,Ethereum,Security,Penetration Testing,Cryptography,\
    Networking,SRE,DevOps,Site Reliability,Microservices,Event Sourcing,Domain Driven Design,TDD,Agile,Scrum,\
    Figma,UX Design,Accessibility,iOS,Android,React Native,Xamarin,Electron,Tauri,Qt,GTK,SQLite,Cassandra,\
    DynamoDB,BigQuery,ClickHouse,Neo4j,Supabase,Firebase,Heroku,Vercel,Cloudflare,Istio,Helm,ArgoCD,Pulumi,\
    Vim,Emacs,LLVM,Compilers,Operating Systems,Distributed Systems,Databases,Algorithms";

const ABOUT_WORDS: &str = "building scalable systems with great teams open source software backend frontend \
    fullstack engineer developer passionate about clean code testing performance cloud infrastructure data \
    mentoring startups remote coffee hiking music reliable simple fast products users customers design \
    architecture APIs platforms tooling automation observability security privacy learning teaching writing \
    conference speaker maintainer contributor freelance consultant lead staff principal senior junior intern \
    games graphics audio embedded hardware robotics science research finance healthcare education climate \
    energy logistics retail travel media community volunteer parent cyclist runner climber photographer chess \
    jazz guitar piano cooking reading sci-fi fantasy board games café naïve résumé";

/// A small, deterministic PRNG (SplitMix64): the data must be the same at every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Zipf's law over ranks `0..n` (exponent `s`): the cumulative weights, for sampling.
struct Zipf(Vec<f64>);

impl Zipf {
    fn new(n: usize, s: f64) -> Self {
        let mut total = 0.0;
        Self(
            (1..=n)
                .map(|rank| {
                    total += 1.0 / (rank as f64).powf(s);
                    total
                })
                .collect(),
        )
    }

    fn sample(&self, rng: &mut Rng) -> usize {
        let total = self.0.last().copied().unwrap_or(0.0);
        let x = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * total;
        self.0.partition_point(|&c| c < x).min(self.0.len() - 1)
    }
}

fn skills() -> Vec<String> {
    let mut skills: Vec<String> = SKILLS.split(',').map(|s| s.trim().to_owned()).collect();
    let stems = ["Cloud", "Data", "Web", "Mobile", "Quantum", "Edge", "Game", "Embedded", "Platform", "Network"];
    let kinds = ["Tooling", "Testing", "Ops", "Analytics", "Security", "Design", "Automation", "Modeling"];
    let mut n = 0;
    while skills.len() < 500 {
        let (stem, kind) = (stems[n % stems.len()], kinds[(n / stems.len()) % kinds.len()]);
        skills.push(format!("{stem} {kind} {}", n / (stems.len() * kinds.len()) + 1));
        n += 1;
    }
    skills
}

fn locations() -> Vec<String> {
    let big = "London, United Kingdom;Bangalore, India;San Francisco, United States;New York, United States;\
        Berlin, Germany;Paris, France;São Paulo, Brazil;Toronto, Canada;Amsterdam, Netherlands;Seattle, United States;\
        Tokyo, Japan;Singapore;Sydney, Australia;Dublin, Ireland;Madrid, Spain;Stockholm, Sweden;München, Germany;\
        Warszawa, Poland;Zürich, Switzerland;Lagos, Nigeria;Nairobi, Kenya;Austin, United States;Kraków, Poland";
    let mut places: Vec<String> = big.split(';').map(|s| s.trim().to_owned()).collect();
    let countries = ["Germany", "France", "United States", "India", "Brazil", "Spain", "Italy", "Poland", "Japan"];
    let mut n = 0;
    while places.len() < 10_000 {
        places.push(format!("Town {n}, {}", countries[n % countries.len()]));
        n += 1;
    }
    places
}

fn main() -> Result<(), BoxError> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(generate(cli))
}

async fn generate(cli: Cli) -> Result<(), BoxError> {
    let path = cli.data_dir.join("devconnect.db");
    if path.exists() {
        return Err(format!("{} exists already", path.display()).into());
    }
    // The searcher through the service, for a real password hash.
    let app = DevConnect::open(Config::new(&cli.data_dir)).await?;
    let viewer = Signup {
        first_name: "Viewer".to_owned(),
        last_name: "Bench".to_owned(),
        email: "viewer@search.test".to_owned(),
        password: cli.password.clone(),
        ..Signup::default()
    };
    let imported = app.import_users(vec![viewer]).await;
    app.close().await?;
    imported?;

    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await?);
    let (first, last): (Vec<&str>, Vec<&str>) = (FIRST.split_whitespace().collect(), LAST.split_whitespace().collect());
    let (skills, places) = (skills(), locations());
    let about: Vec<&str> = ABOUT_WORDS.split_whitespace().collect();
    let (skill_law, place_law, name_law) =
        (Zipf::new(skills.len(), 1.1), Zipf::new(places.len(), 1.0), Zipf::new(first.len(), 0.7));
    let mut rng = Rng(24);
    let started = Instant::now();
    let mut writes = tokio::task::JoinSet::new();
    for i in 0..cli.users {
        let now = chrono::Utc::now();
        let mut mine: Vec<String> = Vec::new();
        for _ in 0..2 + rng.below(7) {
            let skill = &skills[skill_law.sample(&mut rng)];
            if !mine.contains(skill) {
                mine.push(skill.clone());
            }
        }
        let mut text: Vec<&str> = (0..rng.below(30)).map(|_| *rng.pick(&about)).collect();
        // Some mention a skill in their own words too.
        if rng.below(4) == 0 {
            text.push(skills[skill_law.sample(&mut rng)].as_str());
        }
        let profile = Profile {
            id: UserId::new(),
            first_name: first[name_law.sample(&mut rng)].to_owned(),
            last_name: (*rng.pick(&last)).to_owned(),
            age: Some(20 + u8::try_from(rng.below(45)).unwrap_or(0)),
            gender: None,
            photo_url: None,
            about: text.join(" "),
            skills: mine,
            location: (rng.below(10) != 0).then(|| places[place_law.sample(&mut rng)].clone()),
            experience_years: (rng.below(5) != 0).then(|| u8::try_from(rng.below(41)).unwrap_or(0)),
            created_at: now,
            updated_at: now,
            deleted: false,
        };
        let record = UserRecord {
            me: Me { profile, email: format!("dev{i}@search.test") },
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".to_owned(),
            token_version: 0,
            suspended: false,
        };
        // Spawned in order on this one thread, they reach the writer in order (ids
        // ascending), and it commits each thousand together.
        let store = Arc::clone(&store);
        writes.spawn(async move { store.insert_user(&record).await });
        if writes.len() == 1000 {
            for written in writes.join_all().await {
                written?;
            }
            writes = tokio::task::JoinSet::new();
        }
        if (i + 1) % 100_000 == 0 {
            println!("{} users, {:.1} s", i + 1, started.elapsed().as_secs_f64());
        }
    }
    for written in writes.join_all().await {
        written?;
    }
    println!(
        "{} users written and indexed in {:.1} s ({:.1} µs each)",
        cli.users,
        started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64() * 1e6 / f64::from(cli.users.max(1))
    );
    Ok(())
}
