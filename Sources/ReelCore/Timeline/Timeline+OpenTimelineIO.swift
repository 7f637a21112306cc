extension Timeline {
    /// The cut as OpenTimelineIO JSON (an `.otio` file) so a desktop editor can open it: one video
    /// track of clips and transitions, audio tracks for voice, music and effects (gaps between
    /// sounds, extra tracks where sounds overlap), and the overlays as markers on the video track.
    ///
    /// OTIO transitions do not take time: each sits on a cut, half over the outgoing clip's tail
    /// and half over the incoming clip's head, which are trimmed by those halves — the same film,
    /// frame for frame. Times are counted in frames at the output rate.
    ///
    /// - Parameters:
    ///   - assets: lengths of audio assets whose `out` is open (else they run to the film's end).
    ///   - mediaURL: the URL a desktop editor should open for an asset id (`file:///…`); nil gives
    ///     OTIO's `MissingReference`.
    public func openTimelineIO(assets: [String: TimelineAsset] = [:], mediaURL: (String) -> String?) -> JSONValue {
        let layout = self.layout
        let rate = layout.fps
        func time(_ frames: Double) -> JSONValue {
            ["OTIO_SCHEMA": "RationalTime.1", "rate": .double(rate), "value": .double(frames)]
        }
        func range(_ start: Double, _ duration: Double) -> JSONValue {
            ["OTIO_SCHEMA": "TimeRange.1", "start_time": time(start), "duration": time(duration)]
        }
        func reference(_ asset: String) -> JSONValue {
            guard let url = mediaURL(asset) else {
                return ["OTIO_SCHEMA": "MissingReference.1", "name": .string(asset), "available_range": nil, "metadata": [:]]
            }
            let available = assets[asset]?.durationSeconds.map { range(0, ($0 * rate).rounded()) } ?? .null
            return [
                "OTIO_SCHEMA": "ExternalReference.1", "name": .string(asset), "target_url": .string(url),
                "available_range": available, "metadata": ["reeld": ["asset": .string(asset)]],
            ]
        }
        func clip(_ name: String, asset: String, start: Double, duration: Double) -> JSONValue {
            [
                "OTIO_SCHEMA": "Clip.1", "name": .string(name), "source_range": range(start, duration),
                "media_reference": reference(asset), "effects": [], "markers": [], "enabled": true, "metadata": [:],
            ]
        }
        func gap(_ duration: Double) -> JSONValue {
            ["OTIO_SCHEMA": "Gap.1", "name": "", "source_range": range(0, duration), "effects": [], "markers": [], "enabled": true, "metadata": [:]]
        }
        func track(_ name: String, kind: String, _ children: [JSONValue], markers: [JSONValue] = []) -> JSONValue {
            [
                "OTIO_SCHEMA": "Track.1", "name": .string(name), "kind": .string(kind), "children": .array(children),
                "source_range": nil, "effects": [], "markers": .array(markers), "enabled": true, "metadata": [:],
            ]
        }

        // Video: a transition of T frames puts floor(T/2) before the cut (`in_offset`) and the rest after it.
        var videoItems: [JSONValue] = []
        for (i, c) in video.enumerated() {
            let incoming = layout.incomingFrames(i)
            let outgoing = layout.transitionFrames[i]
            // The cut sits `in_offset` frames into the overlap: the outgoing clip is trimmed by
            // the rest (`out_offset`), the incoming one by `in_offset`; the trimmed frames are
            // the handles the transition plays over.
            let headTrim = Double(incoming / 2)
            let tailTrim = Double(outgoing - outgoing / 2)
            let sourceStart = (c.inPoint * rate).rounded() + headTrim
            let length = Double(layout.clipFrames[i]) - headTrim - tailTrim
            videoItems.append(clip(c.id, asset: c.asset, start: sourceStart, duration: length))
            if outgoing > 0, let t = c.transition {
                videoItems.append([
                    "OTIO_SCHEMA": "Transition.1", "name": .string(t.type.rawValue), "transition_type": .string(t.type.openTimelineIOType),
                    "in_offset": time(Double(outgoing / 2)), "out_offset": time(Double(outgoing - outgoing / 2)),
                    "metadata": ["reeld": ["xfade": .string(t.type.rawValue)]],
                ])
            }
        }
        let markers: [JSONValue] = overlays.map { o in
            [
                "OTIO_SCHEMA": "Marker.2", "name": .string(o.text), "color": "YELLOW",
                "marked_range": range((o.start * rate).rounded(), ((o.end - o.start) * rate).rounded()),
                "metadata": ["reeld": ["overlay_id": .string(o.id), "font": .string(o.font), "size": .int(Int64(o.size)), "color": .string(o.color)]],
            ]
        }
        var tracks = [track("Video", kind: "Video", videoItems, markers: markers)]

        // Audio: sounds placed in film time, laid on as few tracks as keep them from overlapping.
        struct Placed { var name: String; var asset: String; var start: Double; var sourceStart: Double; var length: Double }
        let filmFrames = Double(layout.totalFrames)
        func placed(_ name: String, asset: String, at: Double, inPoint: Double, outPoint: Double?) -> Placed {
            let start = (at * rate).rounded()
            let end = outPoint ?? assets[asset]?.durationSeconds ?? (inPoint + filmFrames / rate)
            let length = min((end - inPoint) * rate, filmFrames - start).rounded()
            return Placed(name: name, asset: asset, start: start, sourceStart: (inPoint * rate).rounded(), length: max(0, length))
        }
        func audioTracks(_ name: String, _ sounds: [Placed]) -> [JSONValue] {
            var lanes: [[Placed]] = []
            for sound in sounds.sorted(by: { $0.start < $1.start }) where sound.length > 0 {
                if let lane = lanes.firstIndex(where: { $0.last.map { $0.start + $0.length <= sound.start } ?? true }) {
                    lanes[lane].append(sound)
                } else {
                    lanes.append([sound])
                }
            }
            return lanes.enumerated().map { n, lane in
                var items: [JSONValue] = []
                var position = 0.0
                for sound in lane {
                    if sound.start > position { items.append(gap(sound.start - position)) }
                    items.append(clip(sound.name, asset: sound.asset, start: sound.sourceStart, duration: sound.length))
                    position = sound.start + sound.length
                }
                return track(lanes.count > 1 ? "\(name) \(n + 1)" : name, kind: "Audio", items)
            }
        }
        tracks += audioTracks("Voice", audio.voice.map { placed($0.id, asset: $0.asset, at: $0.at, inPoint: $0.inPoint, outPoint: $0.outPoint) })
        if let m = audio.music {
            tracks += audioTracks("Music", [placed("music", asset: m.asset, at: m.at, inPoint: m.inPoint, outPoint: m.outPoint)])
        }
        tracks += audioTracks("Effects", audio.effects.map { placed($0.id, asset: $0.asset, at: $0.at, inPoint: $0.inPoint, outPoint: $0.outPoint) })

        return [
            "OTIO_SCHEMA": "Timeline.1",
            "name": .string(name ?? "reeld timeline"),
            "global_start_time": time(0),
            "tracks": [
                "OTIO_SCHEMA": "Stack.1", "name": "tracks", "children": .array(tracks), "source_range": nil,
                "effects": [], "markers": [], "enabled": true, "metadata": [:],
            ],
            "metadata": ["reeld": ["timeline": jsonValue]],
        ]
    }
}
