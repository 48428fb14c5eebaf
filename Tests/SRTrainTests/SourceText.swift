// The repository's text as the error catalogue test reads it: Swift string literals split at
// their interpolations, shell scripts split at their expansions, and the construction sites of
// the typed errors with their arguments. A lexer just big enough for this code base's Swift:
// comments, "..." and """...""" literals (raw #"..."# too), escapes, nested interpolations.

import Foundation

/// One string literal (or literals joined by `+`): its text between interpolations, in order.
struct Literal {
    var segments: [String]
}

enum SourceText {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Files under `folder` (relative to the repository) whose name ends with one of `suffixes`.
    static func files(under folder: String, endingWith suffixes: [String]) -> [String] {
        let root = repository.appendingPathComponent(folder).path
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        return walker.compactMap { $0 as? String }
            .filter { name in suffixes.contains { name.hasSuffix($0) } }
            .map { "\(folder)/\($0)" }.sorted()
    }

    static func read(_ relative: String) throws -> String {
        try String(contentsOf: repository.appendingPathComponent(relative), encoding: .utf8)
    }

    /// A C file's string literals.
    static func cStrings(_ text: String) -> [String] {
        let literal = try! NSRegularExpression(pattern: #""((?:[^"\\\n]|\\.)*)""#)
        return literal.matches(in: text, range: NSRange(text.startIndex..., in: text)).map {
            String(text[Range($0.range(at: 1), in: text)!])
        }
    }

    /// A shell script's text split at its expansions ($X, ${X}, $(...)): the parts the script
    /// writes itself.
    static func shellSegments(_ text: String) -> [String] {
        let expansion = try! NSRegularExpression(pattern: #"\$\{[^}]*\}|\$\([^)]*\)|\$[A-Za-z0-9_@#?*]+"#)
        let whole = NSRange(text.startIndex..., in: text)
        let gapped = expansion.stringByReplacingMatches(in: text, range: whole, withTemplate: "\u{1}")
        return gapped.split(whereSeparator: { $0 == "\u{1}" || $0 == "\n" }).map(String.init)
    }
}

/// A Swift file's characters with a cursor; `literal()` and `skipCode` walk it.
struct SwiftLexer {
    let chars: [Character]
    var at = 0

    init(_ text: String) { chars = Array(text) }

    func peek(_ offset: Int = 0) -> Character? { at + offset < chars.count ? chars[at + offset] : nil }
    func starts(_ s: String) -> Bool {
        var i = at
        for c in s { guard i < chars.count, chars[i] == c else { return false }; i += 1 }
        return true
    }

    /// Every literal of the file (literals inside interpolations too, after their outer one).
    static func literals(of text: String) -> [Literal] {
        var lexer = SwiftLexer(text)
        var found: [Literal] = []
        lexer.skipCode(until: nil, collecting: &found)
        return found
    }

    /// Skips code up to the `)` closing an interpolation (`until` ")") or the end, collecting
    /// the literals it meets; parentheses nest.
    mutating func skipCode(until close: Character?, collecting found: inout [Literal]) {
        var depth = 0
        while let c = peek() {
            if starts("//") { while let d = peek(), d != "\n" { at += 1 }; continue }
            if starts("/*") { skipBlockComment(); continue }
            if c == "\"" || (c == "#" && (peek(1) == "\"" || peek(1) == "#")) {
                if let literal = literal(collecting: &found) { found.append(literal) }
                continue
            }
            if c == "(" { depth += 1 } else if c == ")" {
                if depth == 0 && close == ")" { at += 1; return }
                depth -= 1
            }
            at += 1
        }
    }

    mutating func skipBlockComment() {
        var depth = 0
        repeat {
            if starts("/*") { depth += 1; at += 2 } else if starts("*/") { depth -= 1; at += 2 } else { at += 1 }
        } while depth > 0 && at < chars.count
    }

    /// The literal at the cursor, joined with the literals that follow it after a `+`.
    mutating func literal(collecting found: inout [Literal]) -> Literal? {
        var hashes = 0
        while peek() == "#" { hashes += 1; at += 1 }
        guard peek() == "\"" else { return nil }  // a #if or #selector, not a literal
        let multiline = starts("\"\"\"")
        at += multiline ? 3 : 1
        let terminator = (multiline ? "\"\"\"" : "\"") + String(repeating: "#", count: hashes)
        let escape = "\\" + String(repeating: "#", count: hashes)
        var segments = [""]
        while at < chars.count {
            if starts(terminator) { at += terminator.count; break }
            if starts(escape) {
                at += escape.count
                guard let e = peek() else { break }
                at += 1
                switch e {
                case "(":
                    var inner: [Literal] = []
                    skipCode(until: ")", collecting: &inner)
                    found += inner
                    segments.append("")
                case "n", "\n": segments[segments.count - 1].append(e == "n" ? "\n" : " ")
                case "t": segments[segments.count - 1].append("\t")
                case "u": while let d = peek(), d != "}" { at += 1 }; at += 1; segments[segments.count - 1].append("?")
                default: segments[segments.count - 1].append(e)
                }
                continue
            }
            segments[segments.count - 1].append(chars[at])
            at += 1
        }
        // "a" + "b": one message written on two lines.
        var look = at
        while look < chars.count, chars[look].isWhitespace { look += 1 }
        if look < chars.count, chars[look] == "+" {
            look += 1
            while look < chars.count, chars[look].isWhitespace { look += 1 }
            if look < chars.count, chars[look] == "\"" {
                at = look
                if let next = literal(collecting: &found) {
                    segments[segments.count - 1] += next.segments[0]
                    segments += next.segments.dropFirst()
                }
            }
        }
        return Literal(segments: segments)
    }
}

/// One argument of a call: its text (literals shown as "") and its top-level literals.
struct Argument {
    var text = ""
    var literals: [Literal] = []

    var label: String? {
        let head = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let colon = head.firstIndex(of: ":"), head[..<colon].allSatisfy({ $0.isLetter }) else { return nil }
        return String(head[..<colon])
    }
    /// The literal the argument starts with (after its label), if it does.
    var leadingLiteral: Literal? {
        var head = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let label { head = head.dropFirst(label.count + 1).trimmingCharacters(in: .whitespacesAndNewlines) }
        return head.hasPrefix("\"") ? literals.first : nil
    }
}

extension SwiftLexer {
    /// The arguments of the call whose `(` is at the cursor.
    mutating func arguments() -> [Argument] {
        at += 1
        var arguments = [Argument()]
        var depth = 0
        var inner: [Literal] = []
        while let c = peek() {
            if starts("//") { while let d = peek(), d != "\n" { at += 1 }; continue }
            if c == "\"" || (c == "#" && peek(1) == "\"") {
                if let literal = literal(collecting: &inner) {
                    arguments[arguments.count - 1].literals.append(literal)
                    arguments[arguments.count - 1].text += "\"\""
                }
                continue
            }
            if "([{".contains(c) { depth += 1 }
            if ")]}".contains(c) {
                if depth == 0 { at += 1; break }
                depth -= 1
            }
            if c == "," && depth == 0 { arguments.append(Argument()); at += 1; continue }
            arguments[arguments.count - 1].text.append(c)
            at += 1
        }
        return arguments
    }
}

/// Where Sources/ builds one of the typed errors that carry a hint.
struct ErrorSite {
    enum Hint { case literal(String), computed, missing }
    static let types = ["DataError", "ModelFileError", "ConfigurationError", "KernelPathError"]

    let file: String
    let line: Int
    let type: String
    let hint: Hint
    /// The message's literal text between interpolations (pieces of 10+ characters); empty when
    /// the message is not written here.
    let message: [String]

    var place: String { "\(file):\(line)" }

    static func all() throws -> [ErrorSite] {
        var sites: [ErrorSite] = []
        for file in SourceText.files(under: "Sources", endingWith: [".swift"]) {
            let text = try SourceText.read(file)
            var lexer = SwiftLexer(text)
            var line = 1
            var lineStart = true
            var commented = false
            for (index, c) in lexer.chars.enumerated() {
                if c == "\n" { line += 1; lineStart = true; commented = false; continue }
                if lineStart && !c.isWhitespace { commented = c == "/"; lineStart = false }
                guard !commented, index == 0 || !(lexer.chars[index - 1].isLetter || lexer.chars[index - 1].isNumber) else { continue }
                for type in types where lexer.chars[index] == type.first! {
                    lexer.at = index
                    guard lexer.starts(type + "(") else { continue }
                    lexer.at = index + type.count
                    sites.append(site(file: file, line: line, type: type, lexer.arguments()))
                }
            }
        }
        return sites
    }

    static func site(file: String, line: Int, type: String, _ arguments: [Argument]) -> ErrorSite {
        let pieces = { (literal: Literal?) in
            (literal?.segments ?? []).map { $0.trimmingCharacters(in: DocEntry.ends) }.filter { $0.count >= 10 }
        }
        if type == "KernelPathError" {
            let whole = arguments.first?.leadingLiteral?.segments.joined(separator: "\u{1}") ?? ""
            let parts = whole.components(separatedBy: "HINT: ")
            let before = Literal(segments: parts[0].components(separatedBy: "\u{1}"))
            let hint: Hint = parts.count > 1 ? .literal(parts[1].replacingOccurrences(of: "\u{1}", with: "")) : .missing
            return ErrorSite(file: file, line: line, type: type, hint: hint, message: pieces(before))
        }
        let hintArgument = arguments.first { $0.label == "hint" }
        let hint: Hint = hintArgument.map { argument in
            argument.leadingLiteral.map { .literal($0.segments.joined()) } ?? .computed
        } ?? .missing
        let messageArgument = type == "ModelFileError" ? arguments.first { $0.label == "problem" }
            : arguments.dropFirst(type == "DataError" ? 1 : 0).first
        return ErrorSite(file: file, line: line, type: type, hint: hint, message: pieces(messageArgument?.leadingLiteral))
    }
}
