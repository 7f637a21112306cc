import Foundation
import Logging
import ReelCore

extension ReelConfig {
    /// Reads, parses and checks a config file, then reads `database.url_file` if set and the key
    /// files of the enabled remote providers.
    ///
    /// This is what `reeld run` and `reeld check-config` call; every error names the file, the
    /// line and column, and the key if it is about one.
    public static func load(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> ReelConfig {
        var config = try parse(try readConfigFile(path), source: path, environment: environment)
        if let urlFile = config.database.urlFile {
            config.database.url = try readSecret(urlFile, key: "database.url_file", source: path)
        }
        try readCredentials(&config, source: path)
        return config
    }

    /// Parses and checks config text without touching the filesystem (`url_file` and key files are not read).
    public static func parse(
        _ text: String, source: String = "<config>", environment: [String: String] = [:]
    ) throws(ConfigError) -> ReelConfig {
        let (entries, locator) = try TOMLReader.read(text, source: source)
        var root = ConfigTable(path: [], entries: entries, source: source, locator: locator)
        let config = try ReelConfig(reading: &root, environment: environment)
        try root.finish()
        return config
    }

    /// The file's text, read no further than the size limit so that a huge file is refused
    /// without being loaded.
    static func readConfigFile(_ path: String) throws(ConfigError) -> String {
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: URL(filePath: path))
            defer { try? handle.close() }
            data = try handle.read(upToCount: TOMLReader.maxBytes + 1) ?? Data()
        } catch {
            throw ConfigError(source: path, position: nil, key: nil, message: "cannot read the config file: \(error.localizedDescription)")
        }
        guard data.count <= TOMLReader.maxBytes else { throw TOMLReader.tooLarge(source: path) }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(source: path, position: nil, key: nil, message: "cannot read the config file: it is not UTF-8 text")
        }
        return text
    }

    /// A secret file's contents, without the trailing newline editors and `echo` add.
    static func readSecret(_ path: String, key: String, source: String) throws(ConfigError) -> String {
        let contents: String
        do {
            contents = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(
                source: source, position: nil, key: key,
                message: "cannot read \(path): \(error.localizedDescription)"
            )
        }
        let trimmed = contents.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw ConfigError(source: source, position: nil, key: key, message: "\(path) is empty")
        }
        return trimmed
    }
}
