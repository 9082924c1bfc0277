//! Compiles the proto with protox (no system `protoc` needed), generates the tonic
//! server and client, and writes the encoded descriptor set for server reflection.

use prost::Message as _;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = ["proto/devconnect/v1/devconnect.proto", "proto/devconnect/v1/moderation.proto"];
    for proto in protos {
        println!("cargo:rerun-if-changed={proto}");
    }
    let fds = protox::compile(protos, ["proto"])?;
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out_dir.join("devconnect_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure().build_server(true).build_client(true).compile_fds(fds)?;
    Ok(())
}
