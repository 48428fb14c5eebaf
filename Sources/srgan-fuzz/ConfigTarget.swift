// Harness for a training config file (YAML): parsed over a preset as `train --config FILE`
// does, then validated; an accepted config must also survive the resolved-config round trip
// that checkpoints rely on (saved YAML read back gives the same settings).

import Foundation
import SRTrain

enum ConfigTarget {
    static let yaml = FuzzTarget(name: "yaml", summary: "a train --config YAML file over the tiny preset, validated, saved and read back") { bytes in
        guard let text = String(bytes: bytes, encoding: .utf8) else { return "not UTF-8" }
        do {
            let config = try TrainConfig.resolve(preset: "tiny", phase: nil, file: (path: "fuzz.yaml", text: text), overrides: [])
            try config.validate()
            let saved = config.yaml
            let again = try TrainConfig.fromSaved(yaml: saved, source: "the saved config")
            if again.yaml != saved {
                fatalError("yaml: an accepted config does not read back as itself:\n\(saved)\n---\n\(again.yaml)")
            }
        } catch {
            return refused(error, "yaml")
        }
        return nil
    }
}
