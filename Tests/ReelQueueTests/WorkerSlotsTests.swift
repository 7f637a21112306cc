import Foundation
import Testing

@testable import ReelQueue

/// The worker's slot accounting, without a database: reservations, claims, handler ends and
/// commits, and what each tells a claimer to do next.
@Suite struct WorkerSlotsTests {
    typealias Slots = WorkerSlots<UUID, Int>

    func jobs(_ count: Int, limited: Bool = false) -> [Slots.Claimed] {
        (0..<count).map { Slots.Claimed(id: UUID(), limited: limited, handle: $0) }
    }

    @Test func aQuietPoolClaimsAtOnceWithTheFirstClaimerOnly() {
        let slots = Slots(workers: 8, claimBatch: 64)
        #expect(slots.free == 8)
        #expect(slots.nextStep(forClaimer: 0) == .claim(gatherFirst: false))
        #expect(slots.nextStep(forClaimer: 1) == .waitForSlot)
    }

    @Test func reservationLimitsAClaimToTheFreeSlotsAndTheBatch() {
        var slots = Slots(workers: 8, claimBatch: 5)
        #expect(slots.reserve() == 5)
        // Claims in flight never count the same slots.
        #expect(slots.reserve() == 3)
        #expect(slots.reserve() == 0)
        #expect(slots.free == 0)
        #expect(slots.nextStep(forClaimer: 0) == .waitForSlot)
        slots.claimFailed(limit: 5)
        #expect(slots.free == 5)
        #expect(slots.reserved == 3)
    }

    @Test func aFullClaimMeansABacklogAndBringsTheOtherClaimersIn() {
        var slots = Slots(workers: 16, claimBatch: 8)
        let limit = slots.reserve()
        #expect(limit == 8)
        slots.claimReturned(jobs(8), limit: limit)
        #expect(slots.backlog)
        #expect(slots.busy == 8)
        #expect(slots.reserved == 0)
        #expect(slots.free == 8)
        #expect(slots.nextStep(forClaimer: 0) == .claim(gatherFirst: true))
        #expect(slots.nextStep(forClaimer: 1) == .claim(gatherFirst: true))
    }

    @Test func halfABatchStillCountsAsABacklogButOneJobDoesNot() {
        var slots = Slots(workers: 64, claimBatch: 16)
        slots.claimReturned(jobs(8), limit: slots.reserve())
        #expect(slots.backlog)
        slots.claimReturned(jobs(7), limit: slots.reserve())
        #expect(!slots.backlog)

        var small = Slots(workers: 2, claimBatch: 2)
        small.claimReturned(jobs(1), limit: small.reserve())
        #expect(!small.backlog)
    }

    @Test func anEndedHandlerFreesItsSlotButTheJobStaysHeldUntilCommitted() {
        var slots = Slots(workers: 2, claimBatch: 2)
        let claimed = jobs(2)
        slots.claimReturned(claimed, limit: slots.reserve())
        #expect(slots.free == 0)
        slots.handlerReturned()
        #expect(slots.busy == 1)
        #expect(slots.free == 1)
        #expect(slots.held.count == 2)
        #expect(slots.handle(claimed[0].id) == 0)
        #expect(slots.committed([claimed[0].id]) == .init(freedLimitedRoom: false, empty: false))
        #expect(slots.handle(claimed[0].id) == nil)
    }

    @Test func jobsAwaitingTheirCommitAreBoundedByTwiceThePool() {
        var slots = Slots(workers: 4, claimBatch: 4)
        // Eight jobs claimed and ended, none committed: every worker is idle, yet no claim may go.
        for _ in 0..<2 {
            slots.claimReturned(jobs(4), limit: slots.reserve())
            for _ in 0..<4 { slots.handlerReturned() }
        }
        #expect(slots.busy == 0)
        #expect(slots.held.count == 8)
        #expect(slots.free == 0)
        #expect(slots.nextStep(forClaimer: 0) == .waitForSlot)
        _ = slots.committed(slots.held.keys.prefix(3))
        #expect(slots.free == 3)
    }

    @Test func committingAUsersJobFreesLimitedRoomAndTheLastOneEmptiesThePool() {
        var slots = Slots(workers: 4, claimBatch: 4)
        let system = jobs(1)
        let users = jobs(1, limited: true)
        slots.claimReturned(system + users, limit: slots.reserve())
        #expect(slots.committed(system.map(\.id)) == .init(freedLimitedRoom: false, empty: false))
        // Ids the pool does not hold (already let go of) change nothing.
        #expect(slots.committed(system.map(\.id)) == .init(freedLimitedRoom: false, empty: false))
        #expect(slots.committed(users.map(\.id)) == .init(freedLimitedRoom: true, empty: true))
    }

    @Test func gatherTargetIsThreeQuartersOfTheSmallerOfBatchAndPool() {
        #expect(Slots(workers: 8, claimBatch: 64).gatherTarget == 6)
        #expect(Slots(workers: 128, claimBatch: 64).gatherTarget == 48)
        #expect(Slots(workers: 1, claimBatch: 64).gatherTarget == 0)
    }
}
