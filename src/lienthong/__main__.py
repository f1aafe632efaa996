from lienthong.cli import main

main()
