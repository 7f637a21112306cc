import Foundation
import ReelCore
import ReelHTTP

extension KlingProvider {
    /// The task Kling made for `externalID` (sent as `external_task_id`), or nil if it has none.
    ///
    /// Kling's query documents either the task id or the external task id in the path; some
    /// servers take the external id only as a query parameter on the list form instead, so a
    /// path lookup refused as a bad request is tried once that way. Nil only when Kling says it
    /// has no such task; anything else throws, and the attempt is retried.
    public func lookup(externalID: String, request: GenerationRequest, context: GenerationContext) async throws -> ProviderTask? {
        let endpoint = self.endpoint(request)
        let byPath = HTTPRequest(url: url(endpoint.path + "/" + ProviderNaming.pathSegment(externalID, fallback: "invalid-task-id")), headers: headers, options: options(total: settings.requestTimeout))
        do {
            let (json, _) = try await exchange(byPath, context: context)
            if let task = matching(json["data"], externalID: externalID) { return task }
        } catch let error as JobError where Self.saysNoSuchTask(error) {
            // Fall through to the query form.
        }
        let query = "?external_task_id=" + (externalID.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? "")
        let byQuery = HTTPRequest(url: url(endpoint.path + query), headers: headers, options: options(total: settings.requestTimeout))
        do {
            let (json, _) = try await exchange(byQuery, context: context)
            let task = matching(json["data"], externalID: externalID)
            context.logger.info(task == nil ? "Kling has no task for this external id" : "Kling task found by its external id",
                                metadata: ["kling.external_task_id": "\(externalID)", "kling.task": "\(task?.id ?? "-")"])
            return task
        } catch let error as JobError where Self.saysNoSuchTask(error) {
            context.logger.info("Kling has no task for this external id", metadata: ["kling.external_task_id": "\(externalID)"])
            return nil
        }
    }

    /// RFC 3986's unreserved characters: what a query value may carry as it is (`.alphanumerics`
    /// would escape the `-` of every UUID and take non-ASCII letters as they are).
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// The task in a query answer (one task, or a list) whose external id is `externalID`. A
    /// single task without `task_info` is taken as the answer to the path asked for.
    private func matching(_ data: JSONValue?, externalID: String) -> ProviderTask? {
        guard let data else { return nil }
        let candidates = data.arrayValue ?? [data]
        for task in candidates {
            guard let id = Self.taskID(task) else { continue }
            let external = task["task_info"]?["external_task_id"]?.stringValue
            if external == externalID || (external == nil && data.arrayValue == nil) {
                return ProviderTask(provider: name, id: id)
            }
        }
        return nil
    }

    /// Kling's answers for an unknown task: 404, "resource does not exist" (1203) or an id it
    /// cannot read (1201, 1202). Safe to take as "none": `external_task_id` is unique per account,
    /// so a second create with it could not start a second paid task anyway.
    static func saysNoSuchTask(_ error: JobError) -> Bool {
        guard error.detail?["provider"] == "kling", error.failureClass == .permanent else { return false }
        if case .int(let code)? = error.detail?["code"], [1201, 1202, 1203].contains(code) { return true }
        return error.detail?["status"] == .int(404) && error.detail?["code"] == .null
    }
}
