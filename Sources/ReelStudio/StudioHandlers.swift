import Foundation
import ReelBlocking
import ReelCore
import ReelDB
import ReelProviders
import ReelQueue
import ReelStorage

/// What the studio's handlers need from the node that runs them: its database, where media is
/// stored, which providers are enabled, and how many renders may run at once.
public struct StudioHandlers: Sendable {
    public var database: Database
    public var storageRoot: URL
    public var providers: ProviderRegistry
    public var renderWorkers: Int
    public var threadsPerRender: Int
    public var renderCacheDirectory: URL
    public var renderCacheBudgetBytes: Int64
    /// Where storing, probing and rendering run. It needs two free threads per render at once
    /// (the picture and the soundtrack beside it): see ``threadsNeeded(renderWorkers:)``.
    public var blocking: BlockingPool

    public init(
        database: Database, storageRoot: URL, providers: ProviderRegistry, renderWorkers: Int, threadsPerRender: Int,
        renderCacheDirectory: URL, renderCacheBudgetBytes: Int64, blocking: BlockingPool
    ) {
        self.database = database
        self.storageRoot = storageRoot
        self.providers = providers
        self.renderWorkers = renderWorkers
        self.threadsPerRender = threadsPerRender
        self.renderCacheDirectory = renderCacheDirectory
        self.renderCacheBudgetBytes = renderCacheBudgetBytes
        self.blocking = blocking
    }

    /// Threads the blocking pool needs: two per render that may run at once, and one per core
    /// for storing and probing files beside them.
    public static func threadsNeeded(renderWorkers: Int) -> Int {
        2 * max(1, renderWorkers) + ProcessInfo.processInfo.activeProcessorCount
    }

    /// Every kind a node runs, with its handler: the system kinds, the workflow, each
    /// generation kind and the renders.
    public func registry() throws -> HandlerRegistry {
        let store = StudioStore(database: database)
        let storage = MediaStorage(storage: LocalStorage(root: storageRoot), pool: blocking)
        // Scratch beside storage so that finished files move in with a rename.
        let scratch = storageRoot.appendingPathComponent(".scratch")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        var handlers = HandlerRegistry()
        handlers.register(.noop, SystemHandlers.noop)
        handlers.register(.sleep, SystemHandlers.sleep)
        handlers.register(.providerCancel, ProviderCancelHandler(providers: providers, scratchRoot: scratch))
        handlers.register(.workflowRun, WorkflowHandler(store: store, router: providers.router, pollInterval: .seconds(30)))
        let generation: [(JobKind, GenerationKind)] = [
            (.storyboard, .text), (.image, .image), (.video, .video), (.speech, .speech), (.music, .music), (.soundEffect, .soundEffect),
        ]
        for (kind, generationKind) in generation {
            handlers.register(kind, GenerationHandler(kind: generationKind, store: store, storage: storage, providers: providers, scratchRoot: scratch))
        }
        let pool = RenderPool(workers: renderWorkers, threadsPerRender: threadsPerRender)
        let render = RenderHandler(
            store: store, storage: storage, scratchRoot: scratch, pool: pool, blocking: blocking,
            cacheDirectory: renderCacheDirectory, cacheBudgetBytes: renderCacheBudgetBytes)
        handlers.register(.edit, render)
        handlers.register(.export, render)
        return handlers
    }
}
