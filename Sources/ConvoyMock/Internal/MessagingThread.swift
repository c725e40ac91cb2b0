/// The messages of one messaging conversation, behind `GET /api/v2/conversations/messages/{id}` and
/// `POST /api/v2/conversations/messages/{id}/messages/bulk`.
///
/// The thread starts with the message records of the conversation document itself (the customer's, then the agent's)
/// and continues with generated messages, each sent by the customer or the agent at a time inside that participant's
/// session; it is cut to the requested count. Generation draws the same amount of randomness per message, so a
/// thread of `n` messages is a prefix of every longer thread of the same conversation. Message bodies are a stable
/// function of the message id.
struct MessagingThread {
    /// One message, as both endpoints describe it.
    struct Message {
        var id: String
        /// Index in `facts.participants` of the participant whose media entry lists the message.
        var participantIndex: Int
        /// Sent by the customer (`inbound`) rather than the agent (`outbound`).
        var isInbound: Bool
        /// Milliseconds since the Unix epoch.
        var time: Int64
        var status: String
        var segmentCount: Int
    }

    let facts: ConversationFacts
    /// `webmessaging`, `sms` or `whatsapp`.
    let messageType: String
    /// In generation order: the document's own records first.
    let messages: [Message]

    /// The thread of the messaging conversation `facts` with `count` messages (clamped to `0...1_000_000`), or its
    /// own count when `nil`: at least the document's own records, otherwise `1 + hash % 40`, so `1...40` in all.
    /// `nil` for a voice conversation.
    init?(facts: ConversationFacts, count requested: Int?) {
        guard !facts.isVoice,
            let customer = facts.participants.firstIndex(where: { $0.purpose == "customer" }),
            let agent = facts.participants.lastIndex(where: { $0.purpose == "agent" }),
            let customerSession = facts.participants[customer].sessions.first,
            let agentSession = facts.participants[agent].sessions.first
        else { return nil }
        self.facts = facts
        messageType = customerSession.messageType ?? "webmessaging"

        var own: [Message] = []
        for (index, participant) in facts.participants.enumerated() {
            for session in participant.sessions {
                for record in session.messages {
                    own.append(
                        Message(
                            id: record.id, participantIndex: index, isInbound: participant.purpose == "customer",
                            time: record.time, status: record.status, segmentCount: record.segmentCount))
                }
            }
        }
        let count =
            requested.map { min(max($0, 0), 1_000_000) }
            ?? max(own.count, 1 + Int(StableHash.fnv1a64(facts.id + "#messages") % 40))
        var messages = Array(own.prefix(count))
        messages.reserveCapacity(count)
        var random = SplitMix64(seed: StableHash.fnv1a64(facts.id) ^ 0xA54F_F53A_5F1D_36F1)
        while messages.count < count {
            let id = random.uuidString()
            let fromCustomer = random.chance(0.5)
            let session = fromCustomer ? customerSession : agentSession
            let offset = Int64(random.nextUnit() * Double(session.disconnected - session.connected))
            let delivered = random.chance(0.8)
            // A customer's message was received; an agent's was delivered, then perhaps read.
            let status = fromCustomer ? "received" : delivered ? "delivery-success" : "read"
            let segments = 1 + random.nextInt(2)
            messages.append(
                Message(
                    id: id, participantIndex: fromCustomer ? customer : agent, isInbound: fromCustomer,
                    time: session.connected + offset, status: status, segmentCount: segments))
        }
        self.messages = messages
    }

    // MARK: Messaging conversation document

    /// A `MessageConversation`: `{id, participants:[…], divisions, selfUri}`, each participant a
    /// `MessageMediaParticipant` (`{id, name?, startTime, connectedTime, endTime, purpose, state, direction, held,
    /// user?, queue?, provider, type, messages}`) whose `messages` are its own `MessageDetails` by time (then id), the
    /// queue participant's none. The model has no conversation start or end, and names a participant's user and
    /// queue as entity references.
    func document() -> JSONValue {
        var byParticipant: [Int: [Message]] = [:]
        for message in messages { byParticipant[message.participantIndex, default: []].append(message) }
        let participants = facts.participants.enumerated().map { index, participant -> JSONValue in
            let records = (byParticipant[index] ?? []).sorted { ($0.time, $0.id) < ($1.time, $1.id) }.map {
                message -> JSONValue in
                .object([
                    ("messageId", .string(message.id)),
                    ("messageTime", .string(Self.timestamp(message.time))),
                    ("messageStatus", .string(message.status)),
                    ("messageSegmentCount", .int(message.segmentCount)),
                    ("messageURI", .string("/api/v2/conversations/messages/\(facts.id)/messages/\(message.id)")),
                ])
            }
            var members: [(key: String, value: JSONValue)] = [("id", .string(participant.id))]
            if let name = participant.name { members.append(("name", .string(name))) }
            let session = participant.sessions.first
            members.append(("startTime", .string(Self.timestamp(participant.start))))
            members.append(("connectedTime", .string(Self.timestamp(session?.connected ?? participant.start))))
            members.append(("endTime", .string(Self.timestamp(participant.end))))
            members.append(("purpose", .string(participant.purpose)))
            members.append(("state", "disconnected"))
            members.append(("direction", .string(session?.direction ?? "inbound")))
            members.append(("held", false))
            if let userID = participant.userID {
                members.append(
                    ("user", .object([("id", .string(userID)), ("selfUri", .string("/api/v2/users/\(userID)"))])))
            }
            if let queueID = participant.queueID {
                members.append(
                    (
                        "queue",
                        .object([("id", .string(queueID)), ("selfUri", .string("/api/v2/routing/queues/\(queueID)"))])
                    ))
            }
            members.append(("provider", "PureCloud Messaging"))
            members.append(("type", .string(session?.messageType ?? messageType)))
            members.append(("messages", .array(records)))
            return .object(members)
        }
        let divisions = facts.divisionIDs.map { division -> JSONValue in
            .object([
                (
                    "division",
                    .object([
                        ("id", .string(division)), ("selfUri", .string("/api/v2/authorization/divisions/\(division)")),
                    ])
                ),
                ("entities", .array([])),
            ])
        }
        return .object([
            ("id", .string(facts.id)),
            ("participants", .array(participants)),
            ("divisions", .array(divisions)),
            ("selfUri", .string("/api/v2/conversations/messages/\(facts.id)")),
        ])
    }

    // MARK: Bulk message bodies

    /// `{"entities":[…]}` for the asked ids that belong to the thread, in the order asked, each once.
    func bulk(ids: [String]) -> JSONValue {
        var index: [String: Int] = [:]
        index.reserveCapacity(messages.count)
        for (position, message) in messages.enumerated() { index[message.id] = position }
        var seen = Set<String>()
        var entities: [JSONValue] = []
        for id in ids {
            let id = id.lowercased()
            guard let position = index[id], seen.insert(id).inserted else { continue }
            entities.append(entity(messages[position]))
        }
        return .object([("entities", .array(entities))])
    }

    /// One `MessageData`: `{id, timestamp, direction, messengerType, fromAddress, toAddress, status,
    /// normalizedMessage, conversationId, selfUri}`. As in the model, the text and any attachment are only in
    /// `normalizedMessage` (`text`, and `content[]` of `contentType` `Attachment`), which every entity has: the
    /// model has no `textBody` or `media`.
    private func entity(_ message: Message) -> JSONValue {
        var random = SplitMix64(seed: StableHash.fnv1a64(message.id) ^ 0x510E_527F_ADE6_82D1)
        let pool = message.isInbound ? Self.customerTexts : Self.agentTexts
        let text = pool[random.nextInt(pool.count)]
        var attachment: JSONValue?
        if random.chance(0.1) {
            let mediaID = random.uuidString()
            attachment = .object([
                ("id", .string(mediaID)),
                ("mediaType", "Image"),
                ("url", .string("https://media.example.invalid/attachments/\(mediaID).png")),
                ("mime", "image/png"),
                ("filename", "photo.png"),
                ("contentSizeBytes", .int(10_000 + random.nextInt(900_000))),
            ])
        }
        let participant = facts.participants[message.participantIndex]
        let time = Self.timestamp(message.time)
        var members: [(key: String, value: JSONValue)] = [
            ("id", .string(message.id)),
            ("timestamp", .string(time)),
            ("direction", message.isInbound ? "inbound" : "outbound"),
            ("messengerType", .string(messageType)),
            ("fromAddress", .string(message.isInbound ? participant.ani : participant.dnis)),
            ("toAddress", .string(message.isInbound ? participant.dnis : participant.ani)),
            ("status", .string(message.status)),
        ]
        var normalizedMembers: [(key: String, value: JSONValue)] = [
            ("id", .string(message.id)),
            (
                "channel",
                .object([
                    ("platform", .string(Self.platforms[messageType] ?? "Open")),
                    ("type", "Private"),
                    ("messageId", .string(message.id)),
                    ("time", .string(time)),
                ])
            ),
            ("type", "Text"),
            ("text", .string(text)),
            ("direction", message.isInbound ? "Inbound" : "Outbound"),
        ]
        if let attachment {
            normalizedMembers.append(
                ("content", .array([.object([("contentType", "Attachment"), ("attachment", attachment)])])))
        }
        members.append(("normalizedMessage", .object(normalizedMembers)))
        members.append(("conversationId", .string(facts.id)))
        members.append(("selfUri", .string("/api/v2/conversations/messages/\(facts.id)/messages/\(message.id)")))
        return .object(members)
    }

    private static func timestamp(_ milliseconds: Int64) -> String {
        ConversationDocumentBuilder.timestamp(milliseconds)
    }

    /// `ConversationMessagingChannel.platform` by messenger type, spelt as the model's enum has them.
    private static let platforms = ["webmessaging": "WebMessaging", "sms": "Sms", "whatsapp": "Whatsapp"]

    private static let customerTexts = [
        "Hi, I need help with my order",
        "It says \"payment declined\" again ☹",
        "Can you call me back?\nI'm at work until 5",
        "Mon colis n'est pas arrivé – commande n°4471",
        "The file C:\\Temp\\invoice.pdf won't open",
        "Thanks, that worked! 👍",
    ]

    private static let agentTexts = [
        "Hello, thanks for reaching out – let me check that for you.",
        "I've issued a refund; it takes 3–5 \"business days\".",
        "Could you confirm the email address on the account?",
        "Sorry for the wait!\tI'm back.",
        "Is there anything else I can help with today?",
    ]
}
