/// Builds one deterministic, realistic conversation document from a generator seeded by the id's stable hash.
struct ConversationDocumentBuilder {
    private let id: String
    private var random: SplitMix64

    /// The draws every document starts with, cheap to compute on their own (no participants are built).
    struct Basics {
        /// Voice (about 60 %) or messaging.
        var isVoice: Bool
        /// `startTime` in milliseconds since the Unix epoch: within the first 360 days of 2026.
        var start: Int64
        var legalHold: Bool
        fileprivate var queue: Pools.Queue
        /// The id of the conversation's only division (its queue's).
        var divisionID: String { Pools.divisions[queue.division].id }
    }

    /// `id` must already be lowercased (as ``MockConversationStore`` passes it).
    init(id: String) {
        self.id = id
        random = Self.generator(id: id)
    }

    /// The basics of the document of `id` (already lowercased), exactly as ``build()`` draws them.
    static func basics(id: String) -> Basics {
        var random = generator(id: id)
        return drawBasics(&random)
    }

    private static func generator(id: String) -> SplitMix64 {
        SplitMix64(seed: StableHash.fnv1a64(id) ^ 0x6A09_E667_F3BC_C908)
    }

    /// The first four draws of every document, in this order.
    private static func drawBasics(_ random: inout SplitMix64) -> Basics {
        let isVoice = random.nextUnit() < 0.6
        // Start somewhere in the first 360 days of 2026, so every derived timestamp stays within 2026.
        let start = Pools.year2026Start + Int64(random.nextInt(360 * 86_400_000))
        let legalHold = random.chance(0.1)
        let queue = Pools.queues[random.nextInt(Pools.queues.count)]
        return Basics(isVoice: isVoice, start: start, legalHold: legalHold, queue: queue)
    }

    mutating func build() -> JSONValue {
        let basics = Self.drawBasics(&random)
        let (isVoice, start, legalHold, queue) = (basics.isVoice, basics.start, basics.legalHold, basics.queue)
        let agent = Pools.users[random.nextInt(Pools.users.count)]
        let customerName = Pools.customerNames[random.nextInt(Pools.customerNames.count)]
        let (participants, end, transfers) =
            isVoice
            ? voiceParticipants(start: start, queue: queue, agent: agent, customer: customerName, legalHold: legalHold)
            : messagingParticipants(
                start: start, queue: queue, agent: agent, customer: customerName, legalHold: legalHold)
        let recordingState: String
        switch random.nextUnit() {
        case ..<(isVoice ? 0.6 : 0.1): recordingState = "ACTIVE"
        case ..<(isVoice ? 0.7 : 0.15): recordingState = "PAUSED"
        default: recordingState = "NONE"
        }
        let division = Pools.divisions[queue.division]

        var members: [(key: String, value: JSONValue)] = [("id", .string(id))]
        if random.chance(0.35) {
            members.append(("name", .string("Case \(100_000 + random.nextInt(900_000)) – \(customerName)")))
        }
        members.append(("externalTag", .string("CRM-\(100_000 + random.nextInt(900_000))")))
        members.append(("startTime", .string(Self.timestamp(start))))
        members.append(("endTime", .string(Self.timestamp(end))))
        if random.chance(0.6) {
            members.append(("address", .string(isVoice ? Pools.companyNumbers[0] : "messaging:\(queue.id)")))
        }
        members.append(("participants", .array(participants)))
        members.append(("conversationIds", .array([.string(id)])))
        members.append(("maxParticipants", .int(isVoice ? 10 : 3)))
        members.append(("recordingState", .string(recordingState)))
        // Every mock conversation has ended.
        members.append(("state", "disconnected"))
        var divisionMembers: [(key: String, value: JSONValue)] = [("id", .string(division.id))]
        if random.chance(0.8) { divisionMembers.append(("name", .string(division.name))) }
        divisionMembers.append(("selfUri", .string("/api/v2/authorization/divisions/\(division.id)")))
        members.append(
            (
                "divisions",
                .array([
                    .object([
                        ("division", .object(divisionMembers)),
                        (
                            "entities",
                            .array([
                                .object([
                                    ("id", .string(queue.id)),
                                    ("selfUri", .string("/api/v2/routing/queues/\(queue.id)")),
                                ])
                            ])
                        ),
                    ])
                ])
            ))
        members.append(("recentTransfers", .array(transfers)))
        members.append(("securePause", .bool(random.chance(0.03))))
        if random.chance(0.3) {
            members.append(("utilizationLabelId", .string(Pools.utilizationLabels[random.nextInt(3)])))
        }
        if !isVoice { members.append(("inactivityTimeout", .string(Self.timestamp(end + 72 * 3_600_000)))) }
        members.append(("selfUri", .string("/api/v2/conversations/\(id)")))
        return .object(members)
    }

    // MARK: Voice

    /// The two ends of a conversation: the customer's address and the organisation's.
    private struct Endpoints {
        var customer: String
        var company: String
    }

    private mutating func voiceParticipants(
        start: Int64, queue: Pools.Queue, agent: String, customer: String, legalHold: Bool
    ) -> ([JSONValue], end: Int64, transfers: [JSONValue]) {
        let ends = Endpoints(
            customer: randomPhoneNumber(), company: Pools.companyNumbers[random.nextInt(Pools.companyNumbers.count)])
        let hasIVR = random.chance(0.5)
        let queueStart = hasIVR ? start + 20_000 + Int64(random.nextInt(60_000)) : start
        let queueEnd = queueStart + 2_000 + Int64(random.nextInt(240_000))
        let talkEnd = queueEnd + 60_000 + Int64(random.nextInt(1_200_000))
        let end = talkEnd + 500 + Int64(random.nextInt(2_000))
        let hold = legalHold ? "true" : "false"

        let customerCall = call(
            ends, customerName: customer, connected: start, disconnected: talkEnd,
            disconnectType: random.chance(0.5) ? "endpoint" : "peer")
        var participants = [
            participant(
                purpose: "customer", name: customer, start: start, end: end, ends: ends,
                attributes: customerAttributes(legalHold: hold), media: ("calls", [customerCall]))
        ]
        if hasIVR {
            let ivrCall = call(ends, connected: start, disconnected: queueStart, disconnectType: "transfer")
            participants.append(
                participant(
                    purpose: "ivr", start: start, end: queueStart, ends: ends,
                    attributes: [("legal_hold", .string(hold)), ("flowName", "Main IVR")], media: ("calls", [ivrCall])))
        }
        let queueCall = call(ends, connected: queueStart, disconnected: queueEnd, disconnectType: "transfer")
        participants.append(
            participant(
                purpose: "acd", start: queueStart, end: queueEnd, queue: queue, ends: ends,
                attributes: [("legal_hold", .string(hold))], media: ("calls", [queueCall])))

        var transfers: [JSONValue] = []
        if !hasIVR, random.chance(0.25) {
            // An attended transfer to a second agent halfway through the talk time (only on calls that skipped
            // the IVR, which keeps documents under 6 KB).
            let second = Pools.users[random.nextInt(Pools.users.count)]
            let handover = queueEnd + (talkEnd - queueEnd) / 2
            transfers.append(
                .object([
                    ("id", .string(random.uuidString())),
                    ("state", "Complete"),
                    ("dateIssued", .string(Self.timestamp(handover - 15_000))),
                    ("initiator", .object([("userId", .string(agent))])),
                    ("destination", .object([("userId", .string(second))])),
                    ("transferType", "Attended"),
                ]))
            let firstCall = call(ends, connected: queueEnd, disconnected: handover, disconnectType: "transfer")
            participants.append(
                agentParticipant(
                    user: agent, queue: queue, start: queueEnd, end: handover, ends: ends, legalHold: hold,
                    media: ("calls", [firstCall])))
            let secondCall = call(ends, connected: handover, disconnected: talkEnd, disconnectType: "peer")
            participants.append(
                agentParticipant(
                    user: second, queue: queue, start: handover, end: talkEnd, ends: ends, legalHold: hold,
                    media: ("calls", [secondCall])))
        } else {
            let agentCall = call(ends, connected: queueEnd, disconnected: talkEnd, disconnectType: "client")
            participants.append(
                agentParticipant(
                    user: agent, queue: queue, start: queueEnd, end: talkEnd, ends: ends, legalHold: hold,
                    media: ("calls", [agentCall])))
        }
        return (participants, end, transfers)
    }

    /// One `calls` entry (Genesys's `Call`). The customer's leg (`customerName` given) describes itself; the
    /// organisation's legs (IVR, queue, agent) just point at the customer. Each leg has one `Interact` segment over its
    /// connected span and a Q.850 "normal call clearing" disconnect reason; an agent leg gets its participant's wrap-up
    /// (``agentParticipant``).
    private mutating func call(
        _ ends: Endpoints, customerName: String? = nil, connected: Int64, disconnected: Int64, disconnectType: String
    ) -> JSONValue {
        let id = random.uuidString()
        let recording = random.chance(0.6)
        var members: [(key: String, value: JSONValue)] = [
            ("id", .string(id)),
            ("state", "disconnected"),
            ("recording", .bool(recording)),
            ("recordingState", recording ? "active" : "none"),
            ("held", false),
            ("securePause", false),
            ("direction", "inbound"),
        ]
        if let customerName {
            members.append(
                ("self", .object([("nameRaw", .string(customerName)), ("addressNormalized", .string(ends.customer))])))
        } else {
            members.append(("other", .object([("addressNormalized", .string(ends.customer))])))
        }
        members.append(("provider", "Edge"))
        members.append(
            (
                "segments",
                .array([
                    .object([
                        ("startTime", .string(Self.timestamp(connected))),
                        ("endTime", .string(Self.timestamp(disconnected))),
                        ("type", "Interact"),
                        ("howEnded", disconnectType == "transfer" ? "Transfer" : "Disconnect"),
                        ("disconnectType", .string(disconnectType)),
                    ])
                ])
            ))
        members.append(("disconnectType", .string(disconnectType)))
        members.append(("connectedTime", .string(Self.timestamp(connected))))
        members.append(("disconnectedTime", .string(Self.timestamp(disconnected))))
        members.append(
            (
                "disconnectReasons",
                .array([.object([("type", "q850"), ("code", .int(16)), ("phrase", "Normal call clearing")])])
            ))
        return .object(members)
    }

    // MARK: Messaging

    private mutating func messagingParticipants(
        start: Int64, queue: Pools.Queue, agent: String, customer: String, legalHold: Bool
    ) -> ([JSONValue], end: Int64, transfers: [JSONValue]) {
        let type = Pools.messageTypes[random.nextInt(Pools.messageTypes.count)]
        let ends: Endpoints
        switch type {
        case "sms":
            ends = Endpoints(
                customer: randomPhoneNumber(),
                company: Pools.companyNumbers[random.nextInt(Pools.companyNumbers.count)])
        case "whatsapp":
            ends = Endpoints(
                customer: "whatsapp:" + randomPhoneNumber().dropFirst(4),
                company: "whatsapp:" + Pools.companyNumbers[0].dropFirst(4))
        default:
            ends = Endpoints(
                customer: "webmessaging:\(random.uuidString())", company: "webmessaging:\(Pools.deploymentID)")
        }
        let queueEnd = start + 5_000 + Int64(random.nextInt(600_000))
        let chatEnd = queueEnd + 120_000 + Int64(random.nextInt(3_000_000))
        let end = chatEnd + 1_000 + Int64(random.nextInt(5_000))
        let hold = legalHold ? "true" : "false"

        let customerMessages = message(
            type: type, ends: ends, customerName: customer, connected: start, disconnected: chatEnd,
            count: 1 + random.nextInt(2))
        let queueMessages = message(type: type, ends: ends, connected: start, disconnected: queueEnd, count: 0)
        let agentMessages = message(
            type: type, ends: ends, connected: queueEnd, disconnected: chatEnd, count: 1 + random.nextInt(2))
        let participants = [
            participant(
                purpose: "customer", name: customer, start: start, end: end, ends: ends,
                attributes: customerAttributes(legalHold: hold), media: ("messages", [customerMessages])),
            participant(
                purpose: "acd", start: start, end: queueEnd, queue: queue, ends: ends,
                attributes: [("legal_hold", .string(hold))], media: ("messages", [queueMessages])),
            agentParticipant(
                user: agent, queue: queue, start: queueEnd, end: chatEnd, ends: ends, legalHold: hold,
                media: ("messages", [agentMessages])),
        ]
        return (participants, end, [])
    }

    /// One `messages` entry with `count` message records spread over its lifetime. As for calls, only the
    /// customer's leg (`customerName` given) describes its own address.
    private mutating func message(
        type: String, ends: Endpoints, customerName: String? = nil, connected: Int64, disconnected: Int64, count: Int
    ) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("id", .string(random.uuidString())),
            ("state", "disconnected"),
            ("direction", "inbound"),
        ]
        if let customerName {
            members.append(
                (
                    "fromAddress",
                    .object([("name", .string(customerName)), ("addressNormalized", .string(ends.customer))])
                ))
        } else {
            members.append(("toAddress", .object([("addressNormalized", .string(ends.customer))])))
        }
        var records: [JSONValue] = []
        for index in 0..<count {
            let time = connected + (disconnected - connected) * Int64(index + 1) / Int64(count + 1)
            let id = random.uuidString()
            let delivered = random.chance(0.8)
            // The customer's messages were received; the agent's delivered, then perhaps read.
            let status = customerName != nil ? "received" : delivered ? "delivery-success" : "read"
            records.append(
                .object([
                    ("messageId", .string(id)),
                    ("messageStatus", .string(status)),
                    ("messageSegmentCount", .int(1 + random.nextInt(2))),
                    ("messageTime", .string(Self.timestamp(time))),
                ]))
        }
        members.append(("messages", .array(records)))
        members.append(("type", .string(type)))
        members.append(("provider", "PureCloud Messaging"))
        members.append(("connectedTime", .string(Self.timestamp(connected))))
        members.append(("disconnectedTime", .string(Self.timestamp(disconnected))))
        return .object(members)
    }

    // MARK: Participants

    /// One participant; `ani` is the customer's address and `dnis` the organisation's, on every participant. A
    /// participant connects when it starts; one in a queue (`queue` given) names it; the customer is `External` and an
    /// agent `Internal`.
    private mutating func participant(
        purpose: String, name: String? = nil, start: Int64, end: Int64, userId: String? = nil,
        queue: Pools.Queue? = nil, ends: Endpoints, wrapup: JSONValue? = nil,
        attributes: [(key: String, value: JSONValue)], media: (key: String, value: [JSONValue])
    ) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("id", .string(random.uuidString())),
            ("startTime", .string(Self.timestamp(start))),
            ("endTime", .string(Self.timestamp(end))),
            ("connectedTime", .string(Self.timestamp(start))),
        ]
        if let name { members.append(("name", .string(name))) }
        if let userId { members.append(("userId", .string(userId))) }
        if let queue {
            members.append(("queueId", .string(queue.id)))
            members.append(("queueName", .string(queue.name)))
        }
        members.append(("purpose", .string(purpose)))
        switch purpose {
        case "customer": members.append(("participantType", "External"))
        case "agent": members.append(("participantType", "Internal"))
        default: break
        }
        members.append(("ani", .string(ends.customer)))
        members.append(("dnis", .string(ends.company)))
        if let wrapup { members.append(("wrapup", wrapup)) }
        members.append(("attributes", .object(attributes)))
        members.append((media.key, .array(media.value)))
        return .object(members)
    }

    /// An agent participant, usually (85 %) with a wrap-up code, which its call legs carry too.
    private mutating func agentParticipant(
        user: String, queue: Pools.Queue, start: Int64, end: Int64, ends: Endpoints, legalHold: String,
        media: (key: String, value: [JSONValue])
    ) -> JSONValue {
        var wrapup: JSONValue?
        if random.chance(0.85) {
            let code = Pools.wrapupCodes[random.nextInt(Pools.wrapupCodes.count)]
            var members: [(key: String, value: JSONValue)] = [("code", .string(code.id)), ("name", .string(code.name))]
            if random.chance(0.4) {
                members.append(("notes", .string(Pools.wrapupNotes[random.nextInt(Pools.wrapupNotes.count)])))
            }
            members.append(("durationSeconds", .int(5 + random.nextInt(120))))
            members.append(("endTime", .string(Self.timestamp(end + 30_000))))
            wrapup = .object(members)
        }
        var media = media
        if media.key == "calls", let wrapup {
            media.value = media.value.map { call in
                guard case .object(let members) = call else { return call }
                return .object(members + [("wrapup", wrapup)])
            }
        }
        return participant(
            purpose: "agent", start: start, end: end, userId: user, queue: queue, ends: ends,
            wrapup: wrapup, attributes: [("legal_hold", .string(legalHold))], media: media)
    }

    private mutating func customerAttributes(legalHold: String) -> [(key: String, value: JSONValue)] {
        [
            ("legal_hold", .string(legalHold)),
            ("language", .string(Pools.languages[random.nextInt(Pools.languages.count)])),
            ("segment", .string(Pools.segments[random.nextInt(Pools.segments.count)])),
            ("crmAccount", .string("ACC-\(10_000_000 + random.nextInt(90_000_000))")),
            ("surveyComment", .string(Pools.surveyComments[random.nextInt(Pools.surveyComments.count)])),
        ]
    }

    private mutating func randomPhoneNumber() -> String {
        "tel:+1\(201 + random.nextInt(789))\(200 + random.nextInt(800))\(1000 + random.nextInt(9000))"
    }

    // MARK: Time

    /// ISO-8601 UTC with milliseconds, e.g. `2026-03-04T05:06:07.089Z`, from milliseconds since the Unix epoch
    /// (years 0...9999).
    static func timestamp(_ milliseconds: Int64) -> String {
        let days = milliseconds / 86_400_000
        let inDay = milliseconds % 86_400_000
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var index = 0
            func digits(_ value: Int64, _ width: Int) {
                var divisor: Int64 = 1
                for _ in 1..<width { divisor *= 10 }
                while divisor > 0 {
                    buffer[index] = UInt8(ascii: "0") + UInt8(value / divisor % 10)
                    index += 1
                    divisor /= 10
                }
            }
            func literal(_ character: Unicode.Scalar) {
                buffer[index] = UInt8(ascii: character)
                index += 1
            }
            digits(year, 4)
            literal("-")
            digits(month, 2)
            literal("-")
            digits(day, 2)
            literal("T")
            digits(inDay / 3_600_000, 2)
            literal(":")
            digits(inDay / 60_000 % 60, 2)
            literal(":")
            digits(inDay / 1000 % 60, 2)
            literal(".")
            digits(inDay % 1000, 3)
            literal("Z")
            return index
        }
    }
}

/// Fixed pools of organisation entities shared by all documents, generated once from fixed seeds.
private enum Pools {
    struct Queue {
        var id: String
        var name: String
        var division: Int
    }

    /// 2026-01-01T00:00:00Z in Unix milliseconds.
    static let year2026Start: Int64 = 1_767_225_600_000

    static let divisions: [(id: String, name: String)] = {
        var random = SplitMix64(seed: 0xD1)
        return ["Home", "Customer Care EMEA", "Sales & Retention", "Support – Tier 2"].map { (random.uuidString(), $0) }
    }()

    static let queues: [Queue] = {
        var random = SplitMix64(seed: 0x0E)
        let names = [
            "Support – English", "Billing", "Sales", "Retention", "Support – Deutsch", "Support – Français",
            "Escalations", "WhatsApp Care",
        ]
        return (0..<8).map { Queue(id: random.uuidString(), name: names[$0], division: $0 % 4) }
    }()

    static let users: [String] = {
        var random = SplitMix64(seed: 0xA6)
        return (0..<30).map { _ in random.uuidString() }
    }()

    static let wrapupCodes: [(id: String, name: String)] = {
        var random = SplitMix64(seed: 0x3A)
        return ["Resolved", "Follow-up required", "Billing question", "Escalated – supervisor", "Wrong number", "Sale"]
            .map { (random.uuidString(), $0) }
    }()

    static let utilizationLabels: [String] = {
        var random = SplitMix64(seed: 0x7B)
        return (0..<3).map { _ in random.uuidString() }
    }()

    static let deploymentID: String = {
        var random = SplitMix64(seed: 0x5C)
        return random.uuidString()
    }()

    static let companyNumbers = ["tel:+18005550100", "tel:+18005550142", "tel:+18885550199"]

    static let customerNames = [
        "Zoë \"VIP\" Müller", "José Álvarez", "Siobhán O'Neill", "Łukasz Wiśniewski", "Chloé Dubois", "Emily Chen",
        "Mohammed Al-Farsi", "Björn Ødegaard", "Renée \"Rennie\" Fox", "李明", "Aiko Tanaka", "Grace Okafor",
    ]

    static let surveyComments = [
        "Agent said \"no problem\" and fixed it ✓",
        "Rated \"5/5\" – quick & friendly",
        "Waited too long; \"hold music\" was loud",
        "Path \"C:\\Users\\me\" was mentioned",
        "Merci beaucoup ! \"Très bien\"",
        "Line one\nline two: \"multi-line\" note",
    ]

    static let wrapupNotes = [
        "Customer asked for a \"callback\" tomorrow", "Refund issued – ref #8841",
        "Escalated to tier 2\tawaiting reply",
    ]

    static let languages = ["en-us", "en-gb", "de-de", "fr-fr", "es-es", "ja-jp"]
    static let segments = ["gold", "silver", "bronze", "prospect"]
    static let messageTypes = ["webmessaging", "sms", "whatsapp"]
}
