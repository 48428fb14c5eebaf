// docs/troubleshooting.md stays true to the code, and the typed errors stay helpful and listed.
// Read from the repository's files (#filePath); no binary is run.
//
// The fragment rule (also stated at the top of docs/troubleshooting.md): every backticked text in
// a table's first column is one entry. A leading "error: ", "warning: " or "note: " (with the
// program's name before it, "train-mpi.sh: error: ") is dropped: the printer adds it. The rest is
// cut at "..." and at placeholders (words in capitals the code fills in, with an optional file
// extension: FILE, RUN, N, WxH, IN.png, and so HINT too, which the error's formatter writes; not
// the few capitals messages write as they are, PNG, JPEG, YAML, CPU...: `literalCapitals`; a
// placeholder or "..." with a path after it, PACKED/index.json or .../state.json, is one path), and
// each piece is trimmed of spaces and of : . , ; at its ends. Every piece of 10 or more
// characters must appear whole in one string literal of Sources/ (between its interpolations;
// literals joined by `+` count as one; C literals of the C shims too) or in one line of a script
// in scripts/, cluster/ or launch/ (between its $ expansions). Tables under the heading
// "Open MPI" quote Open MPI and Slurm, not srgan-dist, and are not checked.
//
// The other direction: every construction of DataError, ModelFileError, ConfigurationError or
// KernelPathError in Sources/ passes a non-empty hint (a literal; a hint passed on from a
// variable is counted and printed), every one whose message is written there as a literal has
// a piece of 10+ characters (trimmed the same way) that some entry's piece lies in, and the
// scripts' own error lines carry a HINT.

import Foundation
import XCTest

final class ErrorCatalogueTests: XCTestCase {
    static let doc = "docs/troubleshooting.md"
    static let foreignSections: Set<String> = ["Open MPI"]

    /// The code's text: literal segments of Sources/, lines of the scripts.
    static let corpus: [String] = {
        var segments: [String] = []
        for file in SourceText.files(under: "Sources", endingWith: [".swift"]) {
            segments += SwiftLexer.literals(of: (try? SourceText.read(file)) ?? "").flatMap(\.segments)
        }
        for file in SourceText.files(under: "Sources", endingWith: [".c", ".h"]) {
            segments += SourceText.cStrings((try? SourceText.read(file)) ?? "")
        }
        for folder in ["scripts", "cluster", "launch"] {
            for file in SourceText.files(under: folder, endingWith: [".sh", ".sbatch", ".py"]) {
                segments += SourceText.shellSegments((try? SourceText.read(file)) ?? "")
            }
        }
        return segments
    }()

    func testEveryListedMessageIsInTheCode() throws {
        let entries = try DocEntry.all(in: SourceText.read(Self.doc), skipping: Self.foreignSections)
        XCTAssertGreaterThan(entries.count, 80, "\(Self.doc): its tables were not found")
        var checked = 0
        for entry in entries {
            for fragment in entry.fragments where fragment.count >= 10 {
                checked += 1
                XCTAssert(Self.corpus.contains { $0.contains(fragment) },
                          "\(Self.doc) (\(entry.section)): `\(entry.text)`: '\(fragment)' is in no string of Sources/, scripts/, cluster/ or launch/. HINT: copy the code's current text into the entry, or remove a row whose error is gone")
            }
        }
        print("ErrorCatalogue: \(entries.count) entries, \(checked) fragments of 10+ characters found in the code")
    }

    func testEveryTypedErrorHasAHint() throws {
        let sites = try ErrorSite.all()
        XCTAssertGreaterThan(sites.count, 100, "no construction sites found under Sources/")
        for site in sites {
            switch site.hint {
            case .literal(let text):
                XCTAssertFalse(text.trimmingCharacters(in: .whitespaces).isEmpty,
                               "\(site.place): \(site.type) with an empty hint. HINT: say what the user should do")
            case .computed: break
            case .missing:
                XCTFail("\(site.place): \(site.type) without a HINT. HINT: end its text with '. HINT: what to do'")
            }
        }
        let computed = sites.filter { if case .computed = $0.hint { return true } else { return false } }
        print("ErrorCatalogue: \(sites.count) sites, \(computed.count) pass on a hint they were given: "
              + computed.map(\.place).joined(separator: ", "))
    }

    /// The scripts' own error lines: an `echo "...error: ..."` or a `netns_fail "..."` (which
    /// prints its one argument, `echo "error: $1"`) carries its HINT in the same text. launch_fail
    /// and the fail functions of cluster/ take the hint as an argument of its own and print it.
    func testEveryScriptErrorHasAHint() throws {
        var checked = 0
        for folder in ["scripts", "cluster", "launch"] {
            for file in SourceText.files(under: folder, endingWith: [".sh", ".sbatch"]) {
                for (number, line) in try SourceText.read(file).split(separator: "\n", omittingEmptySubsequences: false).enumerated()
                where line.contains("netns_fail \"") || (line.contains("echo \"") && line.contains("error: ")
                                                          && !line.contains("error: $1\"")) {  // netns_fail's own echo
                    checked += 1
                    XCTAssert(line.contains("HINT: "), "\(file):\(number + 1): an error without a HINT. HINT: end it with '. HINT: what to do'")
                }
            }
        }
        XCTAssertGreaterThan(checked, 5, "no error lines found in the scripts")
        print("ErrorCatalogue: \(checked) script error lines")
    }

    func testEveryTypedErrorIsListed() throws {
        let entries = try DocEntry.all(in: SourceText.read(Self.doc), skipping: Self.foreignSections)
        let fragments = entries.flatMap(\.fragments).filter { $0.count >= 10 }
        let sites = try ErrorSite.all().filter { !$0.message.isEmpty }
        let unlisted = sites.filter { site in !site.message.contains { segment in fragments.contains { segment.contains($0) } } }
        for site in unlisted {
            XCTFail("\(site.place): \(site.type) '\(site.message.joined(separator: "..."))' is not listed in \(Self.doc). HINT: add a row for it (the message, its cause, what to do)")
        }
        print("ErrorCatalogue: \(sites.count) sites with a literal message, \(unlisted.count) not listed")
    }
}

/// A backticked message in the first column of one of the doc's tables.
struct DocEntry {
    let section: String
    let text: String

    static let prefix = try! NSRegularExpression(pattern: #"^([A-Za-z0-9_.-]+: )?(error|warning|note): "#)
    /// Words in capitals that the messages write as they are, not placeholders.
    static let literalCapitals = ["PNG", "JPEG", "CMYK", "RGB", "YAML", "VGG19", "CRC", "CPU", "GB", "MB", "SHA"]
    static let cut = try! NSRegularExpression(pattern: #"(\.\.\.|\b(?!(?:"# + literalCapitals.joined(separator: "|")
                                              + #")\b)[A-Z][A-Z0-9_]*(x[A-Z]+)?(\.[a-z]+)?\b)(/[A-Za-z0-9_.*-]+)*"#)

    /// What a piece is trimmed of, in the doc and in the code.
    static let ends = CharacterSet.whitespaces.union(CharacterSet(charactersIn: ":.,;"))

    /// The pieces the code must hold, trimmed.
    var fragments: [String] {
        let whole = NSRange(text.startIndex..., in: text)
        var body = Self.prefix.stringByReplacingMatches(in: text, range: whole, withTemplate: "")
        body = Self.cut.stringByReplacingMatches(in: body, range: NSRange(body.startIndex..., in: body), withTemplate: "\u{1}")
        return body.split(separator: "\u{1}").map { $0.trimmingCharacters(in: Self.ends) }.filter { !$0.isEmpty }
    }

    static func all(in doc: String, skipping foreign: Set<String>) -> [DocEntry] {
        var section = ""
        var entries: [DocEntry] = []
        for line in doc.split(separator: "\n") {
            if line.hasPrefix("## ") { section = String(line.dropFirst(3)); continue }
            guard line.hasPrefix("| "), !line.hasPrefix("| ---"), !line.hasPrefix("| message"),
                  !foreign.contains(section) else { continue }
            let firstCell = firstColumn(of: String(line))
            let spans = firstCell.split(separator: "`", omittingEmptySubsequences: false)
            entries += stride(from: 1, to: spans.count, by: 2).map { DocEntry(section: section, text: String(spans[$0])) }
        }
        return entries
    }

    /// The text up to the first `|` outside backticks, after the row's opening one.
    static func firstColumn(of row: String) -> String {
        var inCode = false
        var cell = ""
        for c in row.dropFirst(2) {
            if c == "`" { inCode.toggle() }
            if c == "|" && !inCode { break }
            cell.append(c)
        }
        return cell
    }
}
