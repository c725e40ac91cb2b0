import Foundation
import Testing

@testable import ConvoyMock

@Suite("MockAPIServer: analytics details jobs", .timeLimit(.minutes(1)))
struct MockAnalyticsJobsTests {
    private static let jobsPath = "/api/v2/analytics/conversations/details/jobs"

    private static func day(_ month: Int, _ day: Int) -> Date { AnalyticsDates.day(month, day) }
    private static func iso(_ date: Date) -> String { AnalyticsDates.iso(date) }

    /// A job body over `interval` with optional extra members (already JSON).
    private static func body(_ interval: Range<Date>, _ extra: String = "") -> String {
        #"{"interval":""# + iso(interval.lowerBound) + "/" + iso(interval.upperBound) + #"""#
            + (extra.isEmpty ? "" : "," + extra) + "}"
    }

    /// Submits a job and returns its id.
    private static func submit(_ client: LoopbackClient, _ body: String) throws -> String {
        let response = try client.post(jobsPath, body: body)
        guard response.status == 202, let jobID = try response.jsonObject()["jobId"] as? String else {
            throw LoopbackClientError(description: "submit failed: \(response.status) \(response.bodyText)")
        }
        return jobID
    }

    /// Pages through a fulfilled job's results; returns the ids and the raw pages.
    private static func allResults(
        _ client: LoopbackClient, job: String, pageSize: Int
    )
        throws -> (ids: [String], cursors: [String])
    {
        var ids: [String] = []
        var cursors: [String] = []
        var cursor: String?
        repeat {
            var path = "\(jobsPath)/\(job)/results?pageSize=\(pageSize)"
            if let cursor { path += "&cursor=\(cursor)" }
            let response = try client.get(path)
            guard response.status == 200 else {
                throw LoopbackClientError(description: "results: \(response.status) \(response.bodyText)")
            }
            let object = try response.jsonObject()
            let page = object["conversations"] as? [[String: Any]] ?? []
            #expect(page.count <= pageSize)
            ids += page.compactMap { $0["conversationId"] as? String }
            cursor = object["cursor"] as? String
            if let cursor {
                #expect(page.count == pageSize)
                cursors.append(cursor)
            }
        } while cursor != nil
        return (ids, cursors)
    }

    @Test("status dates: completionDate at submission + jobDelay, expirationDate jobResultLifetime later; then EXPIRED")
    func expiry() throws {
        var configuration = MockServerConfiguration(jobDelay: .milliseconds(600))
        configuration.jobResultLifetime = .seconds(5)
        var server = ResponderHarness(configuration)
        let submitted = try server.post(Self.jobsPath, body: Self.body(Self.day(3, 1)..<Self.day(4, 1)), at: .zero)
        let job = try #require(try submitted.response.jsonObject()["jobId"] as? String)
        func status(at instant: Duration) throws -> [String: Any] {
            try server.get("\(Self.jobsPath)/\(job)", at: instant).response.jsonObject()
        }
        let queued = try status(at: .zero)
        #expect(queued["state"] as? String == "QUEUED")
        #expect(queued["completionDate"] == nil && queued["expirationDate"] == nil)
        #expect(try status(at: .milliseconds(599))["completionDate"] == nil)
        let fulfilled = try status(at: .milliseconds(600))
        #expect(fulfilled["state"] as? String == "FULFILLED")
        let submissionDate = try #require(fulfilled["submissionDate"] as? String)
        let submission = try #require(ISOTimestamp.milliseconds(submissionDate))
        #expect(fulfilled["completionDate"] as? String == ConversationDocumentBuilder.timestamp(submission + 600))
        #expect(fulfilled["expirationDate"] as? String == ConversationDocumentBuilder.timestamp(submission + 5_600))
        let results = "\(Self.jobsPath)/\(job)/results"
        let page = try server.get(results, at: .milliseconds(5_599))
        #expect(page.status == 200)
        // With no cut-off configured, the page names the job's submission as the data it ran against.
        #expect(
            try page.response.jsonObject()["dataAvailabilityDate"] as? String == fulfilled["submissionDate"] as? String)
        let expired = try status(at: .milliseconds(5_600))
        #expect(expired["state"] as? String == "EXPIRED")
        #expect(expired["expirationDate"] as? String == fulfilled["expirationDate"] as? String)
        #expect(expired["completionDate"] as? String == fulfilled["completionDate"] as? String)
        let gone = try server.get(results, at: .milliseconds(5_600))
        #expect(gone.status == 404)
        #expect(
            try gone.response.jsonObject()["message"] as? String == "The results of analytics job '\(job)' have expired"
        )
    }

    @Test("lifecycle: 202 jobId, QUEUED on the first poll, PENDING until exactly jobDelay, then FULFILLED; 400/404")
    func lifecycle() throws {
        var server = ResponderHarness(MockServerConfiguration(jobDelay: .milliseconds(600)))
        let submittedAt = Duration.seconds(3)
        let done = submittedAt + .milliseconds(600)
        let submitted = try server.post(
            Self.jobsPath, body: Self.body(Self.day(3, 1)..<Self.day(4, 1)), at: submittedAt)
        #expect(submitted.status == 202)
        let job = try #require(try submitted.response.jsonObject()["jobId"] as? String)
        #expect(UUID(uuidString: job) != nil)

        let early = try server.get("\(Self.jobsPath)/\(job)/results", at: submittedAt)
        #expect(early.status == 400)
        #expect(try early.response.jsonObject()["code"] as? String == "bad.request")
        #expect(
            try early.response.jsonObject()["message"] as? String
                == "The results of job '\(job)' are not available yet (state QUEUED)")
        func state(at instant: Duration) throws -> String? {
            try server.get("\(Self.jobsPath)/\(job)", at: instant).response.jsonObject()["state"] as? String
        }
        let first = try server.get("\(Self.jobsPath)/\(job)", at: submittedAt)
        #expect(first.status == 200)
        #expect(try first.response.jsonObject()["state"] as? String == "QUEUED")
        let submissionDate = try #require(try first.response.jsonObject()["submissionDate"] as? String)
        #expect(submissionDate.hasSuffix("Z") && submissionDate.count == 24)
        #expect(try state(at: submittedAt + .milliseconds(300)) == "PENDING")
        let notYet = try server.get("\(Self.jobsPath)/\(job)/results", at: done - .nanoseconds(1))
        #expect(notYet.status == 400)
        #expect(
            try notYet.response.jsonObject()["message"] as? String
                == "The results of job '\(job)' are not available yet (state PENDING)")
        #expect(try state(at: done - .nanoseconds(1)) == "PENDING")
        let fulfilled = try server.get("\(Self.jobsPath)/\(job)", at: done)
        #expect(try fulfilled.response.jsonObject()["state"] as? String == "FULFILLED")
        #expect(try fulfilled.response.jsonObject()["submissionDate"] as? String == submissionDate)
        #expect(try server.get("\(Self.jobsPath)/\(job)/results", at: done).status == 200)

        // Results do not wait for a poll: a job never polled serves them once jobDelay has passed, and its first
        // poll still answers QUEUED.
        let unpolled = try #require(
            try server.post(Self.jobsPath, body: Self.body(Self.day(3, 1)..<Self.day(4, 1)), at: submittedAt)
                .response.jsonObject()["jobId"] as? String)
        #expect(try server.get("\(Self.jobsPath)/\(unpolled)/results", at: done).status == 200)
        #expect(
            try server.get("\(Self.jobsPath)/\(unpolled)", at: done).response.jsonObject()["state"] as? String
                == "QUEUED")

        let unknown = UUID().uuidString.lowercased()
        #expect(try server.get("\(Self.jobsPath)/\(unknown)", at: done).status == 404)
        #expect(try server.get("\(Self.jobsPath)/\(unknown)/results", at: done).status == 404)
        #expect(try server.get(Self.jobsPath, at: done).status == 405)

        let counters = server.counters()
        #expect(counters.requestsByPath["jobsSubmit"] == 3)
        #expect(counters.requestsByPath["jobsStatus"] == 6)
        #expect(counters.requestsByPath["jobsResults"] == 5)
    }

    @Test("cursor paging covers exactly conversations(inInterval:…); cursors are stable and resumable")
    func paging() throws {
        let configuration = MockServerConfiguration(missingPerMille: 100, jobDelay: .zero)
        try withServer(configuration) { server in
            let client = try LoopbackClient(port: server.port)
            let interval = Self.day(2, 1)..<Self.day(6, 1)
            let expected = MockConversationStore.conversations(inInterval: interval, missingPerMille: 100)
            #expect(expected.count > 400)
            // Sorted by start time, inside the interval, all existing.
            let starts = expected.map { MockConversationStore.startTime(of: $0) }
            #expect(starts == starts.sorted())
            #expect(starts.allSatisfy { interval.contains($0) })
            #expect(expected.allSatisfy { MockConversationStore.exists($0, missingPerMille: 100) })

            let job = try Self.submit(client, Self.body(interval))
            let (ids, cursors) = try Self.allResults(client, job: job, pageSize: 37)
            #expect(ids == expected)
            #expect(cursors.count == (expected.count - 1) / 37)

            // The same cursor gives the same page; a saved cursor resumes where it left off.
            let page4 = "\(Self.jobsPath)/\(job)/results?pageSize=37&cursor=\(cursors[2])"
            let again = try client.get(page4)
            let once = try client.get(page4)
            #expect(again.body == once.body)
            let resumed = try #require(try again.jsonObject()["conversations"] as? [[String: Any]])
            #expect(resumed.compactMap { $0["conversationId"] as? String } == Array(expected[111..<148]))
            #expect(try again.jsonObject()["cursor"] as? String == cursors[3])

            // Entry shape agrees with the conversation document.
            let entry = resumed[0]
            let id = try #require(entry["conversationId"] as? String)
            let conversation = try #require(
                try JSONSerialization.jsonObject(with: MockConversationStore.conversationDocument(id: id))
                    as? [String: Any])
            #expect(entry["conversationStart"] as? String == conversation["startTime"] as? String)
            #expect(entry["conversationEnd"] as? String == conversation["endTime"] as? String)
            #expect(entry["divisionIds"] as? [String] == MockConversationStore.divisionIDs(of: id))
            let participants = try #require(entry["participants"] as? [[String: Any]])
            let mediaType = MockConversationStore.isMessaging(id) ? "message" : "voice"
            for participant in participants {
                #expect(participant["purpose"] is String)
                let sessions = try #require(participant["sessions"] as? [[String: Any]])
                #expect(sessions.allSatisfy { $0["mediaType"] as? String == mediaType })
            }

            // Default page size 100; 1,000 allowed; outside 1...1000 or a foreign cursor → 400.
            let firstPage = try client.get("\(Self.jobsPath)/\(job)/results")
            #expect((try firstPage.jsonObject()["conversations"] as? [Any])?.count == 100)
            let (all, allCursors) = try Self.allResults(client, job: job, pageSize: 1_000)
            #expect(all == expected && allCursors.isEmpty)
            for query in ["pageSize=1001", "pageSize=0", "pageSize=x", "cursor=bogus"] {
                #expect(try client.get("\(Self.jobsPath)/\(job)/results?\(query)").status == 400, "\(query)")
            }
            let other = try Self.submit(client, Self.body(interval))
            #expect(try client.get("\(Self.jobsPath)/\(other)/results?cursor=\(cursors[0])").status == 400)

            // The whole year, minus the missing ones.
            let year = Self.day(1, 1)..<Self.day(12, 31)
            let yearJob = try Self.submit(client, Self.body(year))
            let yearIDs = try Self.allResults(client, job: yearJob, pageSize: 1_000).ids
            #expect(yearIDs == MockConversationStore.conversations(inInterval: year, missingPerMille: 100))
            #expect((1_700...1_900).contains(yearIDs.count))
            // An empty interval outside the data: one empty page, no cursor.
            let emptyJob = try Self.submit(client, Self.body(Self.day(12, 30)..<Self.day(12, 31)))
            #expect(try Self.allResults(client, job: emptyJob, pageSize: 10).ids.isEmpty)
        }
    }

    @Test("filters: mediaType and divisionId predicates, and/or clauses; bad requests → 400")
    func filters() throws {
        try withServer(MockServerConfiguration(jobDelay: .zero, universeSize: 600)) { server in
            let client = try LoopbackClient(port: server.port)
            let interval = Self.day(1, 1)..<Self.day(12, 31)
            let all = MockConversationStore.conversations(inInterval: interval, universeSize: 600)
            #expect(all.count == 600)
            let division = MockConversationStore.divisionIDs(of: all[0])[0]

            let messages = try Self.submit(
                client,
                Self.body(
                    interval,
                    #""segmentFilters":[{"type":"and","predicates":[{"dimension":"mediaType","value":"message"}]}]"#))
            let messageIDs = try Self.allResults(client, job: messages, pageSize: 500).ids
            #expect(
                messageIDs
                    == MockConversationStore.conversations(
                        inInterval: interval, universeSize: 600, mediaType: "message"))
            #expect(messageIDs.allSatisfy { MockConversationStore.isMessaging($0) })
            #expect((150...330).contains(messageIDs.count))

            let inDivision = try Self.submit(
                client,
                Self.body(
                    interval,
                    #""conversationFilters":[{"type":"and","predicates":[{"type":"dimension","dimension":"divisionId","operator":"matches","value":""#
                        + division + #""}]}]"#))
            let divisionIDs = try Self.allResults(client, job: inDivision, pageSize: 500).ids
            #expect(
                divisionIDs
                    == MockConversationStore.conversations(
                        inInterval: interval, universeSize: 600, divisionID: division))
            #expect(divisionIDs.allSatisfy { MockConversationStore.divisionIDs(of: $0) == [division] })
            #expect(divisionIDs.count < all.count && !divisionIDs.isEmpty)

            let both = try Self.submit(
                client,
                Self.body(
                    interval,
                    #""segmentFilters":[{"predicates":[{"dimension":"mediaType","value":"voice"}]}],"#
                        + #""conversationFilters":[{"type":"or","clauses":[{"predicates":[{"dimension":"divisionId","value":""#
                        + division + #""}]}]}]"#))
            #expect(
                try Self.allResults(client, job: both, pageSize: 500).ids
                    == MockConversationStore.conversations(
                        inInterval: interval, universeSize: 600, mediaType: "voice", divisionID: division))

            let voiceOrMessage = try Self.submit(
                client,
                Self.body(
                    interval,
                    #""segmentFilters":[{"type":"or","predicates":[{"dimension":"mediaType","value":"voice"},{"dimension":"mediaType","value":"message"}]}]"#
                ))
            #expect(try Self.allResults(client, job: voiceOrMessage, pageSize: 1_000).ids == all)

            for bad in [
                #"{"interval":"2026-01-01T00:00:00Z"}"#,
                #"{"interval":"2026-02-01T00:00:00Z/2026-01-01T00:00:00Z"}"#,
                #"{"interval":"yesterday/today"}"#,
                #"{}"#,
                #"[]"#,
                Self.body(interval, #""segmentFilters":[{"predicates":[{"dimension":"queueId","value":"x"}]}]"#),
                Self.body(interval, #""segmentFilters":[{"type":"xor","predicates":[]}]"#),
                Self.body(
                    interval,
                    #""segmentFilters":[{"predicates":[{"dimension":"mediaType","operator":"notExists"}]}]"#),
            ] {
                let response = try client.post(Self.jobsPath, body: bad)
                #expect(response.status == 400, "\(bad)")
                #expect(try response.jsonObject()["code"] as? String == "bad.request")
            }
            // Time zone offsets in the interval are honoured.
            let offset = try Self.submit(client, #"{"interval":"2026-03-01T02:00:00+02:00/2026-03-08T00:00:00.000Z"}"#)
            #expect(
                try Self.allResults(client, job: offset, pageSize: 1_000).ids
                    == MockConversationStore.conversations(
                        inInterval: Self.day(3, 1)..<Self.day(3, 8), universeSize: 600))
        }
    }

    @Test("availability: the configured cut-off, or the current time; jobs find only conversations before it")
    func availability() throws {
        let interval = Self.day(3, 1)..<Self.day(5, 1)
        let inInterval = MockConversationStore.conversations(inInterval: interval, missingPerMille: 50)
        #expect(inInterval.count > 200)
        // The cut-off is exactly the start of one conversation: that one is already unavailable (start < cut-off).
        let cutOff = MockConversationStore.startTime(of: inInterval[150])
        let before = inInterval.filter { MockConversationStore.startTime(of: $0) < cutOff }
        #expect(before == Array(inInterval[..<150]))
        #expect(
            MockConversationStore.conversations(inInterval: interval, missingPerMille: 50, availableBefore: cutOff)
                == before)
        let document = try #require(
            try JSONSerialization.jsonObject(with: MockConversationStore.conversationDocument(id: inInterval[150]))
                as? [String: Any])
        let cutOffText = try #require(document["startTime"] as? String)
        let configuration = MockServerConfiguration(
            missingPerMille: 50, jobDelay: .zero, analyticsAvailability: cutOff)
        try withServer(configuration) { server in
            let client = try LoopbackClient(port: server.port)
            let answer = try client.get("\(Self.jobsPath)/availability")
            #expect(answer.status == 200)
            #expect(try answer.jsonObject().count == 1)
            // To the millisecond, as the conversation's own startTime is written.
            #expect(try answer.jsonObject()["dataAvailabilityDate"] as? String == cutOffText)
            #expect(try client.post("\(Self.jobsPath)/availability", body: "{}").status == 405)

            let straddling = try Self.submit(client, Self.body(interval))
            #expect(try Self.allResults(client, job: straddling, pageSize: 100).ids == before)
            let after = try Self.submit(client, #"{"interval":""# + cutOffText + #"/2026-12-31T00:00:00Z"}"#)
            #expect(try Self.allResults(client, job: after, pageSize: 100).ids.isEmpty)
            let earlier = Self.day(3, 1)..<Self.day(3, 15)
            let wholly = try Self.submit(client, Self.body(earlier))
            let whollyIDs = try Self.allResults(client, job: wholly, pageSize: 1_000).ids
            #expect(whollyIDs == MockConversationStore.conversations(inInterval: earlier, missingPerMille: 50))
            #expect(!whollyIDs.isEmpty && whollyIDs == Array(before.prefix(whollyIDs.count)))

            let counters = server.counters()
            #expect(counters.requestsByPath["jobsAvailability"] == 2)
            #expect(counters.requestsByPath["jobsStatus"] == nil)
        }

        // Without a cut-off: the current time, to the millisecond, and every conversation is available.
        try withServer(MockServerConfiguration(jobDelay: .zero)) { server in
            let client = try LoopbackClient(port: server.port)
            let earliest = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded(.down) / 1000)
            let answer = try client.get("\(Self.jobsPath)/availability")
            let latest = Date()
            let text = try #require(try answer.jsonObject()["dataAvailabilityDate"] as? String)
            #expect(text.count == 24 && text.hasSuffix("Z"))
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let date = try #require(formatter.date(from: text))
            #expect(earliest <= date && date <= latest)
            let year = Self.day(1, 1)..<Self.day(12, 31)
            let job = try Self.submit(client, Self.body(year))
            #expect(try Self.allResults(client, job: job, pageSize: 1_000).ids.count == 2_000)
        }
    }

    @Test("failingJobs: the first N valid submissions end FAILED, with no results; later ones are fulfilled")
    func failingJobs() throws {
        var server = ResponderHarness(
            MockServerConfiguration(jobDelay: .milliseconds(100), universeSize: 300, failingJobs: 2))
        let interval = Self.day(1, 1)..<Self.day(7, 1)
        let at = Duration.seconds(1)
        let later = at + .seconds(1)
        // A refused body is no job: it does not use up a failure.
        #expect(try server.post(Self.jobsPath, body: #"{"interval":"x"}"#, at: at).status == 400)
        var jobs: [String] = []
        for _ in 0..<3 {
            let submitted = try server.post(Self.jobsPath, body: Self.body(interval), at: at)
            #expect(submitted.status == 202)
            jobs.append(try #require(try submitted.response.jsonObject()["jobId"] as? String))
        }
        for job in jobs.prefix(2) {
            let queued = try server.get("\(Self.jobsPath)/\(job)", at: at).response.jsonObject()
            #expect(queued["state"] as? String == "QUEUED")
            #expect(queued["errorMessage"] == nil)
            for instant in [at, later] {
                let failed = try server.get("\(Self.jobsPath)/\(job)", at: instant).response.jsonObject()
                #expect(failed["state"] as? String == "FAILED")
                #expect(failed["errorMessage"] as? String == "The analytics job failed while it was being processed")
                #expect(failed["submissionDate"] as? String == queued["submissionDate"] as? String)
            }
            let results = try server.get("\(Self.jobsPath)/\(job)/results", at: later)
            #expect(results.status == 400)
            #expect(try results.response.jsonObject()["code"] as? String == "bad.request")
            #expect(
                try results.response.jsonObject()["message"] as? String
                    == "Job '\(job)' failed (state FAILED); it has no results")
        }
        let fulfilled = jobs[2]
        #expect(
            try server.get("\(Self.jobsPath)/\(fulfilled)", at: at).response.jsonObject()["state"] as? String
                == "QUEUED")
        let done = try server.get("\(Self.jobsPath)/\(fulfilled)", at: later).response.jsonObject()
        #expect(done["state"] as? String == "FULFILLED")
        #expect(done["errorMessage"] == nil)
        let page = try server.get("\(Self.jobsPath)/\(fulfilled)/results?pageSize=1000", at: later)
        #expect(page.status == 200)
        let ids = try #require(try page.response.jsonObject()["conversations"] as? [[String: Any]])
            .compactMap { $0["conversationId"] as? String }
        let expected = MockConversationStore.conversations(inInterval: interval, universeSize: 300)
        #expect(ids == expected)
        #expect((100...200).contains(expected.count))
    }
}
