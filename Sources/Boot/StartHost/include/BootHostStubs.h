// Host stand-ins for what Sources/Boot/Start provides on ARM; the Swift
// runtime declares these with @_extern(c), so nothing needs this header.
#pragma once
