//! The contract frozen per version (issue 20): `wit/released/{version}/`
//! keeps each released contract unchanged; `wit/plugin.wit` (the head)
//! evolves. The head at a released version is that version, to the letter
//! of every type and function (its doc comments may improve); a newer head
//! keeps every function and type of the released versions it is
//! compatible with (same major; same minor before 1.0) and only adds.
//! Anything else must bump the version and freeze the new one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use wit_parser::{Handle, PackageId, Resolve, Type, TypeDefKind, TypeOwner};

fn wit() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit")
}

/// A contract's package, parsed with the WASI deps of the head.
fn parse(plugin_wit: &Path) -> (Resolve, PackageId) {
    let dir = tempfile_dir();
    std::fs::copy(plugin_wit, dir.join("plugin.wit")).unwrap();
    std::os::unix::fs::symlink(wit().join("deps"), dir.join("deps")).unwrap();
    let mut resolve = Resolve::default();
    let (package, _) = resolve.push_dir(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    (resolve, package)
}

fn tempfile_dir() -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "contract-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A type as text, by structure and names, the same in any `Resolve`.
fn ty(resolve: &Resolve, t: &Type) -> String {
    let Type::Id(id) = t else {
        return format!("{t:?}").to_lowercase();
    };
    let def = &resolve.types[*id];
    // A named type of an interface is its name: its structure is checked
    // where it is defined.
    if let (Some(name), TypeOwner::Interface(_)) = (&def.name, def.owner) {
        return name.clone();
    }
    kind(resolve, &def.kind)
}

fn kind(resolve: &Resolve, kind: &TypeDefKind) -> String {
    let ty = |t: &Type| ty(resolve, t);
    let opt = |t: &Option<Type>| t.as_ref().map_or("_".to_owned(), ty);
    match kind {
        TypeDefKind::Record(r) => {
            let fields: Vec<String> = r
                .fields
                .iter()
                .map(|f| format!("{}: {}", f.name, ty(&f.ty)))
                .collect();
            format!("record {{ {} }}", fields.join(", "))
        }
        TypeDefKind::Variant(v) => {
            let cases: Vec<String> = v
                .cases
                .iter()
                .map(|c| format!("{}({})", c.name, opt(&c.ty)))
                .collect();
            format!("variant {{ {} }}", cases.join(", "))
        }
        TypeDefKind::Enum(e) => {
            let cases: Vec<&str> = e.cases.iter().map(|c| c.name.as_str()).collect();
            format!("enum {{ {} }}", cases.join(", "))
        }
        TypeDefKind::Flags(f) => {
            let flags: Vec<&str> = f.flags.iter().map(|c| c.name.as_str()).collect();
            format!("flags {{ {} }}", flags.join(", "))
        }
        TypeDefKind::Tuple(t) => {
            let types: Vec<String> = t.types.iter().map(ty).collect();
            format!("tuple<{}>", types.join(", "))
        }
        TypeDefKind::Option(t) => format!("option<{}>", ty(t)),
        TypeDefKind::Result(r) => format!("result<{}, {}>", opt(&r.ok), opt(&r.err)),
        TypeDefKind::List(t) => format!("list<{}>", ty(t)),
        TypeDefKind::Type(t) => ty(t),
        TypeDefKind::Handle(Handle::Own(id) | Handle::Borrow(id)) => {
            format!(
                "handle<{}>",
                resolve.types[*id].name.clone().unwrap_or_default()
            )
        }
        other => format!("{other:?}"),
    }
}

/// Every interface's types and functions, as text: `iface.name` -> shape.
fn items(resolve: &Resolve, package: PackageId) -> BTreeMap<String, String> {
    let mut items = BTreeMap::new();
    for (iface_name, id) in &resolve.packages[package].interfaces {
        let iface = &resolve.interfaces[*id];
        for (name, type_id) in &iface.types {
            let shape = kind(resolve, &resolve.types[*type_id].kind);
            items.insert(format!("{iface_name}.{name}"), shape);
        }
        for (name, f) in &iface.functions {
            let params: Vec<String> = f
                .params
                .iter()
                .map(|p| format!("{}: {}", p.name, ty(resolve, &p.ty)))
                .collect();
            let result = f
                .result
                .as_ref()
                .map_or("()".to_owned(), |r| ty(resolve, r));
            items.insert(
                format!("{iface_name}.{name}"),
                format!("func({}) -> {result}", params.join(", ")),
            );
        }
    }
    for (name, world) in &resolve.packages[package].worlds {
        let world = &resolve.worlds[*world];
        let keys = |m: &wit_parser::IndexMap<wit_parser::WorldKey, wit_parser::WorldItem>| {
            let mut names: Vec<String> = m.keys().map(|k| resolve.name_world_key(k)).collect();
            names.sort();
            names.join(", ")
        };
        items.insert(
            format!("world {name}"),
            format!(
                "imports [{}] exports [{}]",
                keys(&world.imports),
                keys(&world.exports)
            ),
        );
    }
    items
}

fn semver(version: &str) -> (u64, u64, u64) {
    let parts: Vec<u64> = version.split('.').map(|p| p.parse().unwrap()).collect();
    (parts[0], parts[1], parts[2])
}

/// Versions that may differ by additions only: same major, same minor before 1.0.
fn compatible(older: (u64, u64, u64), newer: (u64, u64, u64)) -> bool {
    match older.0 {
        0 => newer.0 == 0 && newer.1 == older.1,
        major => newer.0 == major,
    }
}

#[test]
fn r27_the_head_contract_is_each_released_one_or_a_compatible_evolution_of_it() {
    let (head, head_package) = parse(&wit().join("plugin.wit"));
    let head_version = head.packages[head_package]
        .name
        .version
        .clone()
        .unwrap()
        .to_string();
    let head_items = items(&head, head_package);
    let mut released = Vec::new();
    for entry in std::fs::read_dir(wit().join("released")).unwrap() {
        let dir = entry.unwrap().path();
        let version = dir.file_name().unwrap().to_string_lossy().into_owned();
        let (frozen, package) = parse(&dir.join("plugin.wit"));
        assert_eq!(
            frozen.packages[package]
                .name
                .version
                .as_ref()
                .unwrap()
                .to_string(),
            version,
            "wit/released/{version} holds that version"
        );
        let frozen_items = items(&frozen, package);
        if version == head_version {
            assert_eq!(
                head_items, frozen_items,
                "the head changed released contract {version}: bump the version in wit/plugin.wit and freeze it in wit/released/"
            );
        } else if compatible(semver(&version), semver(&head_version)) {
            for (item, shape) in &frozen_items {
                assert_eq!(
                    head_items.get(item),
                    Some(shape),
                    "{item} of released {version} changed or went in {head_version}: a breaking change bumps the minor (before 1.0)"
                );
            }
        }
        released.push(version);
    }
    assert!(
        released.contains(&head_version)
            || released.iter().all(|v| semver(v) < semver(&head_version)),
        "the head's version {head_version} is older than a released one: {released:?}"
    );
}

#[test]
fn r27_the_check_sees_a_change_to_a_released_function() {
    let released = std::fs::read_to_string(wit().join("released/0.1.0/plugin.wit")).unwrap();
    let changed = released.replacen(
        "sync-now: func(webinar: webinar-id)",
        "sync-now: func(webinar: string, force: bool)",
        1,
    );
    assert_ne!(released, changed, "the edit applies");
    let dir = tempfile_dir();
    std::fs::write(dir.join("changed.wit"), changed).unwrap();
    let (a, pa) = parse(&wit().join("released/0.1.0/plugin.wit"));
    let (b, pb) = parse(&dir.join("changed.wit"));
    std::fs::remove_dir_all(&dir).unwrap();
    let (before, after) = (items(&a, pa), items(&b, pb));
    assert_ne!(before.get("sync.sync-now"), after.get("sync.sync-now"));
    assert_eq!(before.get("sync.tick"), after.get("sync.tick"));
}
