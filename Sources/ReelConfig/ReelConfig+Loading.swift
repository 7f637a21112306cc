import Foundation
import Logging
import ReelCore

extension ReelConfig {
    /// Reads, parses and checks a config file, then reads `database.url_file` if set.
    ///
    /// This is what `reeld run` and `reeld check-config` call; every error names the file,
    /// line, column and key.
    public static func load(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> ReelConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(source: path, position: nil, key: nil, message: "cannot read the config file: \(error.localizedDescription)")
        }
        var config = try parse(text, source: path, environment: environment)
        if let urlFile = config.database.urlFile {
            config.database.url = try readSecret(urlFile, key: "database.url_file", source: path)
        }
        return config
    }

    /// Parses and checks config text without touching the filesystem (`url_file` is not read).
    public static func parse(
        _ text: String, source: String = "<config>", environment: [String: String] = [:]
    ) throws(ConfigError) -> ReelConfig {
        let document: TOMLDocument
        do {
            document = try TOMLParser.parse(text)
        } catch {
            throw ConfigError(source: source, position: error.position, key: nil, message: error.message)
        }
        var root = ConfigTable(path: [], entries: document.root, document: document, source: source)
        let config = try ReelConfig(reading: &root, environment: environment)
        try root.finish()
        return config
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
